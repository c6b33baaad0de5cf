/**
 * Which quantized version of each operand an op attempt uses.
 *
 * A linear layer's three ops share three tensors (backend/bilinear.ts OperandKind):
 * forward f(W, X), grad-input f(W, dY), grad-weight f(dY, X). Each tensor is quantized
 * once per training step and used twice; in the lean protocol its masked form is also
 * sent to the workers once. The rule, shared by the quantized reference and both secure
 * protocols so that they take the same decisions and stay bit-identical:
 *
 *   an attempt with headroom h uses for each side (kind K of layer L)
 *     - the cached version of (L, K), when the caller marked that side as reused
 *       (OperandReuse) and the cached version was quantized with headroom h;
 *     - otherwise a new version v = counter(L, K)++ with exponent
 *       e = min(EXP_MAX, floor(log2 max|x|) + h), which becomes the cached version.
 *   A forward forgets the layer's dY (the next backward starts from a new gradient).
 *
 * Version v is quantized with the rounding noise of stream (noise key,
 * operandStreamId(L, K, v, SLOT_NOISE)), so the same tensor, version and exponent
 * always give the same quantized values: a party that did not keep them can quantize
 * again and get them back exactly. The counters live in the executor's AttemptCounter
 * (saved in checkpoints), so versions, like attempts, never repeat under one key.
 *
 * Speculation (an optimisation of the lean protocol's enclave, not a change of the rule): a
 * new version may be planned with the exponent of the previous version of its (layer, kind)
 * at the same headroom as a guess, so that one sweep quantizes and finds max|x| together
 * (enclave-kernels.ts quantizeMaskPack); `confirm` then states the real exponent, and the
 * caller quantizes again in the rare case the guess was wrong. The results are those of the
 * rule either way.
 */
import { type BilinearPass, type OperandKind, type OperandReuse, operandKinds } from '../backend/bilinear.js';
import { EXP_MAX, exponentOf } from '../field/quantize.js';
import type { AttemptCounter } from './op-streams.js';
import { UndoLog } from './undo-log.js';

/** One side of one op attempt. */
export interface OperandUse {
  readonly kind: OperandKind;
  readonly version: number;
  /** The exponent it is quantized with (tensor exponent plus headroom). */
  readonly exp: number;
  readonly headroom: number;
  /** True when this attempt quantizes it (a new version); false when it uses the cached one. */
  readonly fresh: boolean;
  /** `exp` is a guess (speculation, above) until `confirm`. */
  readonly guessed?: boolean;
}

export const NO_REUSE: OperandReuse = { a: false, b: false };

export class OperandTracker {
  readonly #cache = new Map<string, OperandUse>();
  /** The exponent of the last new version of (layer, kind) at a headroom: `${layer}/${kind}/${headroom}`. */
  readonly #lastExp = new Map<string, number>();
  /** Cached versions the workers of the current session do not hold (resendAll): sent again on their next use. */
  readonly #resend = new Set<string>();
  /** The three above change only through this log, which notes them while an attempt's mark is open (undo-log.ts). */
  readonly #undo: UndoLog;

  constructor(
    readonly counter: AttemptCounter,
    undo: UndoLog = new UndoLog(),
  ) {
    this.#undo = undo;
  }

  /**
   * The two sides of an attempt of `pass` at layer `layer` with `headroom`; `exponent(x)` is the
   * tensor exponent floor(log2 max|x|), called only for new versions (and, with `speculate`, only when
   * there is no previous exponent to guess from).
   */
  plan(
    layer: number,
    pass: BilinearPass,
    reuse: OperandReuse,
    headroom: number,
    a: Float32Array,
    b: Float32Array,
    exponent: (x: Float32Array) => number,
    speculate = false,
  ): [OperandUse, OperandUse] {
    if (pass === 'forward') this.#undo.delete(this.#cache, `${layer}/dY`);
    const [ka, kb] = operandKinds(pass);
    return [this.#use(layer, ka, reuse.a, headroom, a, exponent, speculate), this.#use(layer, kb, reuse.b, headroom, b, exponent, speculate)];
  }

  #use(
    layer: number,
    kind: OperandKind,
    reuse: boolean,
    headroom: number,
    x: Float32Array,
    exponent: (x: Float32Array) => number,
    speculate: boolean,
  ): OperandUse {
    const key = `${layer}/${kind}`;
    const cached = this.#cache.get(key);
    if (reuse && cached !== undefined && cached.headroom === headroom) {
      // a version the workers lost with their session: the same version and exponent (so the same
      // quantized values) travels again, masked under the new session's keys
      if (this.#undo.remove(this.#resend, key)) return { ...cached, fresh: true };
      return { ...cached, fresh: false };
    }
    this.#undo.remove(this.#resend, key);
    const guess = speculate ? this.#lastExp.get(`${key}/${headroom}`) : undefined;
    const exp = guess ?? Math.min(EXP_MAX, exponent(x) + headroom);
    const use: OperandUse = { kind, version: this.counter.take(layer, kind), exp, headroom, fresh: true, ...(guess === undefined ? {} : { guessed: true }) };
    this.#undo.set(this.#cache, key, use);
    if (guess === undefined) this.#undo.set(this.#lastExp, `${key}/${headroom}`, exp);
    return use;
  }

  /** The real exponent of a new version planned with a guess, from max|x| (scanned while quantizing). */
  confirm(layer: number, use: OperandUse, maxAbs: number): OperandUse {
    const exp = Math.min(EXP_MAX, exponentOf(maxAbs) + use.headroom);
    const real: OperandUse = { kind: use.kind, version: use.version, exp, headroom: use.headroom, fresh: use.fresh };
    const key = `${layer}/${use.kind}`;
    if (this.#cache.get(key)?.version === use.version) this.#undo.set(this.#cache, key, real);
    this.#undo.set(this.#lastExp, `${key}/${use.headroom}`, exp);
    return real;
  }

  /** Forgets every cached version (the attempt failed: the workers may hold any of them, or none). */
  clear(): void {
    this.#undo.clear(this.#cache);
    this.#undo.clear(this.#resend);
  }

  /**
   * A new session (recovery.ts): the workers hold none of the cached versions, but the step still uses
   * them; each is quantized again (same values: same noise stream, same exponent) and sent on its next use.
   */
  resendAll(): void {
    for (const k of this.#cache.keys()) this.#undo.add(this.#resend, k);
  }
}
