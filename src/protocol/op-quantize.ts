/**
 * Step 1 of every linear op, shared by the quantized reference and the secure
 * protocol (DESIGN §3, §5):
 *
 *   AQ, eA = quantize(A; noise stream (noiseKey, id(layer, pass, attempt, NOISE_A)), headroom)
 *   BQ, eB = quantize(B; noise stream (noiseKey, id(layer, pass, attempt, NOISE_B)), headroom)
 *
 * with exponent e = floor(log2 max|x|) + headroom, so the result's scale is
 * 2^(eA + eB − 12). The rounding noise has its own key, independent of every
 * mask, so a worker that knows a mask learns nothing about the rounding.
 */
import { createHash } from 'node:crypto';
import type { BilinearPass } from '../backend/bilinear.js';
import { FieldStream, deriveStreamKey } from '../field/prg.js';
import { EXP_MAX, quantize, tensorExponent } from '../field/quantize.js';
import { SLOT_NOISE_A, SLOT_NOISE_B, opStreamId } from './op-streams.js';

export interface QuantizedOperands {
  readonly eA: number;
  readonly eB: number;
}

/**
 * The rounding-noise key of a run, derived from the run's seed:
 *   key = HKDF(SHA-256("goten-ts/run-seed/v1/" ‖ seed), "noise").
 * Rounding noise need not be secret from workers (every quantized value is
 * one-time padded before it leaves the enclave); deriving it from the seed makes
 * a secure run reproduce the quantized reference bit for bit. Masks never come
 * from the seed: they use the enclave's random master secret.
 */
export function noiseKeyFromSeed(seed: number | string): Uint8Array {
  const master = createHash('sha256').update(`goten-ts/run-seed/v1/${seed}`).digest();
  return deriveStreamKey(new Uint8Array(master), 'noise');
}

function quantizeWithHeadroom(x: Float32Array, key: Uint8Array, id: bigint, out: Int32Array, headroom: number): number {
  const e = Math.min(EXP_MAX, tensorExponent(x) + headroom);
  return quantize(x, FieldStream.open(key, id), out, e);
}

/** Quantizes both operands of one op attempt into aq and bq. */
export function quantizeOperands(
  noiseKey: Uint8Array,
  layerIndex: number,
  pass: BilinearPass,
  attempt: number,
  headroom: number,
  a: Float32Array,
  b: Float32Array,
  aq: Int32Array,
  bq: Int32Array,
): QuantizedOperands {
  const eA = quantizeWithHeadroom(a, noiseKey, opStreamId(layerIndex, pass, attempt, SLOT_NOISE_A), aq, headroom);
  const eB = quantizeWithHeadroom(b, noiseKey, opStreamId(layerIndex, pass, attempt, SLOT_NOISE_B), bq, headroom);
  return { eA, eB };
}
