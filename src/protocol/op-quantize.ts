/**
 * Step 1 of every linear op, shared by the quantized reference and the secure
 * protocols (docs/protocol.md, operands): each side's operand version (operands.ts) is
 *
 *   XQ = quantize(X; exponent e, NoiseStream(noiseKey, operandStreamId(layer, kind, version, NOISE)))
 *
 * with e = floor(log2 max|x|) + headroom, so the result's scale is 2^(eA + eB − 12).
 * The rounding noise has its own key, independent of every mask, so a worker that
 * knows a mask learns nothing about the rounding. It is counter-based (field/noise.ts),
 * not AES-CTR: it must be reproducible and unbiased, not secret (docs/protocol.md).
 */
import { createHash } from 'node:crypto';
import { deriveStreamKey } from '../field/prg.js';
import { NoiseStream } from '../field/noise.js';
import { quantize } from '../field/quantize.js';
import type { EnclaveKernels, StreamRef } from './enclave-kernels.js';
import type { OperandUse } from './operands.js';
import { SLOT_NOISE, operandStreamId } from './op-streams.js';

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

/** The rounding-noise stream id of one operand version. */
export function noiseStreamId(layerIndex: number, use: OperandUse): bigint {
  return operandStreamId(layerIndex, use.kind, use.version, SLOT_NOISE);
}

/** The rounding-noise stream of one operand version (the enclave kernels' stream reference). */
export function noiseStream(noiseKey: Uint8Array, layerIndex: number, use: OperandUse): StreamRef {
  return { key: noiseKey, id: noiseStreamId(layerIndex, use) };
}

/** quantizeOperand with the enclave's kernels (native or their TypeScript reference: the same values). */
export function quantizeOperandWith(kernels: EnclaveKernels, noiseKey: Uint8Array, layerIndex: number, use: OperandUse, x: Float32Array, out: Int32Array): void {
  kernels.quantizeMaskPack(x, use.exp, noiseStream(noiseKey, layerIndex, use), null, null, out, null);
}

/** Quantizes one operand version into out (same values however often it is called). */
export function quantizeOperand(noiseKey: Uint8Array, layerIndex: number, use: OperandUse, x: Float32Array, out: Int32Array): void {
  quantize(x, NoiseStream.open(noiseKey, noiseStreamId(layerIndex, use)), out, use.exp);
}
