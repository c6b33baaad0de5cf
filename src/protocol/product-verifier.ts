/**
 * Verified products (docs/protocol.md, Verification): the enclave checks every outsourced result
 * before it is used, with the Freivalds projections of freivalds.ts on the attempt's quantized operands
 * AQ, BQ and the reconstructed integer result C:
 *
 *   pass  ⇔  projectResult(C, R) == projectProduct(AQ, BQ, R)     (exact, mod P)
 *
 * R holds PROJECTIONS = 3 independent columns of field elements from an AES-CTR stream under a key
 * drawn with crypto.randomBytes when the verifier is made; no worker ever sees it, and every check
 * draws a new R (the stream's next id). Soundness (freivalds.ts): a wrong C (C ≠ f(AQ, BQ) mod P)
 * passes one column with probability ≤ 2/P (conv; 1/P linear), all three with ≤ (2/P)^3 < 2^−59
 * (P > 2^20.99). Union bound over the N op attempts of one training step (every attempt is checked,
 * retries included): an undetected wrong result in a step has probability ≤ N·(2/P)^3 < 2^−40 for
 * N ≤ 2^19 (a VGG-11 step has 32 ops, so < 2^−54).
 *
 * Modes: `all` checks every attempt; `sample` checks each attempt with probability 1/SAMPLE_ONE_IN,
 * decided with the enclave's own randomness after the result has arrived (a worker that corrupts m
 * results escapes with probability (1 − 1/SAMPLE_ONE_IN)^m); `off` builds no verifier at all, so the
 * protocol runs exactly as without this module.
 *
 * C comes back exactly from the float output: out = C · 2^s with |C| < 2^21 is exact in float32
 * whenever −149 ≤ s ≤ 106 (EXACT_SCALE); an attempt outside that range (tensors near float32's
 * limits) is counted as `unverifiable` instead of checked.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Backend } from '../backend/backend.js';
import type { BilinearOp, BilinearPass } from '../backend/bilinear.js';
import { FieldStream } from '../field/prg.js';
import { pow2 } from '../field/quantize.js';
import { FRESH_INT32, projectProduct, projectResult, projectionRandomness, projectionSize } from './freivalds.js';
import type { Int32Buffers } from './managed-buffers.js';

export const VERIFY_MODES = ['all', 'sample', 'off'] as const;
export type VerifyMode = (typeof VERIFY_MODES)[number];
/** Off until the cost measurement decides (docs/protocol.md, Verification). */
export const DEFAULT_VERIFY: VerifyMode = 'off';
/** Columns of R per check: an undetected wrong result with probability ≤ (2/P)^3 < 2^−59 per op attempt. */
export const PROJECTIONS = 3;
/** `sample` checks one attempt in this many. */
export const SAMPLE_ONE_IN = 4;
/** Scales s for which C · 2^s (|C| < 2^21) is exact in float32. */
export const EXACT_SCALE = { min: -149, max: 106 } as const;

export function parseVerifyMode(s: string): VerifyMode {
  if (!(VERIFY_MODES as readonly string[]).includes(s)) throw new Error(`--verify must be one of ${VERIFY_MODES.join(', ')}, got '${s}'`);
  return s as VerifyMode;
}

/** Who is to blame for a failed check: a sentence, and the roles it names for certain (e.g. ['w0']). */
export interface Culprit {
  readonly text: string;
  /** The worker roles proven wrong; empty when the search cannot tell (then no spare replaces anyone). */
  readonly parties: readonly string[];
}

/** A result failed verification: the op (layer, pass) and who is to blame, as far as known. */
export class VerificationError extends Error {
  override name = 'VerificationError';
  readonly culprit: string;
  /** The worker roles the culprit search proved wrong (a spare replaces one only when exactly one is named). */
  readonly parties: readonly string[];
  constructor(
    readonly layer: string,
    readonly pass: BilinearPass,
    culprit: string | Culprit,
  ) {
    const c = typeof culprit === 'string' ? { text: culprit, parties: [] } : culprit;
    super(`verification failed at layer ${layer}, ${pass}: ${c.text}; the step was not applied, stopping`);
    this.culprit = c.text;
    this.parties = c.parties;
  }
}

export interface VerifyStats {
  /** Attempts checked (passed or not). */
  checked: number;
  /** Attempts `sample` left unchecked. */
  sampledOut: number;
  /** Attempts whose scale put C outside float32's exact range (not checked). */
  unverifiable: number;
  /** Enclave CPU time spent verifying (ms). */
  ms: number;
}

export class ProductVerifier {
  readonly #key = new Uint8Array(randomBytes(16));
  #draws = 0n;
  readonly #stats: VerifyStats = { checked: 0, sampledOut: 0, unverifiable: 0, ms: 0 };

  constructor(
    readonly backend: Backend,
    readonly mode: Exclude<VerifyMode, 'off'>,
  ) {}

  /** Whether this attempt is checked (`sample`: one in SAMPLE_ONE_IN, the enclave's own coin). */
  wants(): boolean {
    if (this.mode === 'all' || randomInt(SAMPLE_ONE_IN) === 0) return true;
    this.#stats.sampledOut++;
    return false;
  }

  /** Fresh projection randomness for `op` (projectionRandomness × PROJECTIONS elements). */
  draw(op: BilinearOp): Int32Array {
    return FieldStream.open(this.#key, this.#draws++).fillCentred(new Int32Array(projectionRandomness(op) * PROJECTIONS));
  }

  /** C from out = C · 2^scaleExp into `into`; false when the scale is outside EXACT_SCALE (counted). */
  resultIntegers(out: Float32Array, scaleExp: number, into: Int32Array): boolean {
    if (scaleExp < EXACT_SCALE.min || scaleExp > EXACT_SCALE.max) {
      this.#stats.unverifiable++;
      return false;
    }
    const inv = pow2(-scaleExp);
    for (let i = 0; i < out.length; i++) into[i] = out[i] * inv;
    return true;
  }

  /**
   * True iff C passes the check with R against the operands AQ, BQ. The projections and their
   * intermediate come from `scratch` ('v.left', 'v.right', 'v.t'): fresh pages cost more than the check.
   */
  passes(op: BilinearOp, aq: Int32Array, bq: Int32Array, c: Int32Array, r: Int32Array, scratch: Int32Buffers = FRESH_INT32): boolean {
    const n = projectionSize(op, PROJECTIONS);
    const left = projectResult(this.backend, op, c, r, PROJECTIONS, scratch.int32('v.left', n));
    const right = projectProduct(this.backend, op, aq, bq, r, PROJECTIONS, scratch.int32('v.right', n), scratch);
    this.#stats.checked++;
    return sameElements(left, right);
  }

  /** Adds the CPU time of a check. */
  record(ms: number): void {
    this.#stats.ms += ms;
  }

  stats(): VerifyStats {
    return { ...this.#stats };
  }
}

export function sameElements(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
