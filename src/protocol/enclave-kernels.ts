/**
 * The enclave's fused per-element kernels (docs/benchmarks.md: where the lean protocol's time goes), in two implementations
 * that must agree bit for bit (test/protocol/enclave-kernels.test.ts):
 *
 *   js      the reference: FieldStream over node:crypto (masks), NoiseStream (rounding
 *           noise, field/noise.ts) plus the field/ loops
 *           (quantize, maskAndShare, reconstructDequantize), one pass per tensor;
 *   native  the addon (native/src/addon_enclave.cc): AES-NI/VAES keystream, the vectorised
 *           counter-based noise, and every
 *           pass of an operand (or of a result) fused into one sweep over
 *           L1-sized blocks, each PRG stream drawn once.
 *
 * A stream is (key, id) as in field/prg.ts (the noise stream N as in field/noise.ts). For one operand x with exponent e
 * (tensor exponent plus headroom) and streams N (noise), U, S0:
 *
 *   q_i  = clamp(floor(x_i · 2^(6 − e) + g_i), −128, 127)     g ← N   (field/quantize.ts)
 *   e_i  = q_i − u_i  mod P                                   u ← U   (masked operand)
 *   s1_i = q_i − s0_i mod P                                   s0 ← S0 (worker 1's share)
 *
 * and, the lean protocol's operand sweep (streams N, S0, D; the mask is s0 + d):
 *
 *   e_i  = q_i − s0_i − d_i mod P, packed into 3 bytes (field/pack.ts)
 *
 * and for one result with parts p_k (centred; Int32, or packed 3 bytes per element) and
 * output-mask streams M_m:
 *
 *   C_i   = centre(Σ_k p_k[i] + Σ_m mask_m[i]) mod P,   out_i = C_i · 2^scaleExp,
 *
 * returning max_i |C_i| for the wrap-around guard (reconstruct.ts).
 */
import { FieldStream } from '../field/prg.js';
import { NoiseStream } from '../field/noise.js';
import { EXP_MAX, EXP_MIN, FRAC_SHIFT, exponentOf, maxAbs as maxAbsRef, quantize } from '../field/quantize.js';
import { maskAndShare } from '../field/combine.js';
import { packCentred24, unpackCentred24 } from '../field/pack.js';
import { isCentredArray, subModP } from '../field/share.js';
import { requireNativeModule } from '../addon/addon.js';
import { NamedBuffers } from '../backend/named-buffers.js';
import { reconstructDequantize } from './reconstruct.js';

/** One PRG stream: a 16-byte key and a 64-bit stream id. */
export interface StreamRef {
  readonly key: Uint8Array;
  readonly id: bigint;
}

export interface EnclaveKernels {
  readonly name: 'js' | 'native';
  /** max |x_i|; TypeError naming the first non-finite element (as field/quantize.ts maxAbs). */
  maxAbs(x: Float32Array): number;
  /** True iff every element is a centred field element (validation of untrusted results). */
  isCentred(v: Int32Array): boolean;
  /** The SWALP exponent floor(log2 max|x|) (0 for all-zero x), as field/quantize.ts tensorExponent. */
  exponent(x: Float32Array): number;
  /**
   * Quantize x with exponent e (noise from `noise`) into q (if given); with `u`, e_i = q_i − u_i
   * into `masked`; with `s0`, s1_i = q_i − s0_i into `share1`. All outputs have x.length elements.
   */
  quantizeMaskShare(
    x: Float32Array,
    e: number,
    noise: StreamRef,
    u: StreamRef | null,
    s0: StreamRef | null,
    q: Int32Array | null,
    masked: Int32Array | null,
    share1: Int32Array | null,
  ): void;
  /**
   * The lean protocol's operand sweep: quantize x with exponent e (noise from `noise`) into q (if
   * given); with `packed` (3·n bytes), e_i = q_i − s0_i − d_i mod P packed into it (s0, d required then).
   * Returns max |x_i|, scanned on the way (TypeError naming the first non-finite element, as maxAbs): a
   * caller that used a guessed exponent learns whether it was the tensor's.
   */
  quantizeMaskPack(x: Float32Array, e: number, noise: StreamRef, s0: StreamRef | null, d: StreamRef | null, q: Int32Array | null, packed: Uint8Array | null): number;
  /**
   * out = centre(Σ parts + Σ masks) · 2^scaleExp; returns max |C|. 1–4 parts, 0–3 masks, ≤ 6 in all.
   * A part is an Int32Array, or a Uint8Array holding its elements packed (3 bytes each, field/pack.ts).
   * Parts 0 … checkFirst − 1 are untrusted and checked to be centred on the way (NonCentredPartError
   * naming the first bad part; `out` is then undefined); the others must be centred already.
   */
  reconstructDequantize(parts: readonly FieldPart[], masks: readonly StreamRef[], scaleExp: number, out: Float32Array, checkFirst?: number): number;
  /** out ← centred field elements of stream s (from its start). */
  fillCentred(s: StreamRef, out: Int32Array): Int32Array;
  /** packed (3·n bytes) ← the centred elements of v. */
  pack(v: Int32Array, packed: Uint8Array): Uint8Array;
  /** v ← the elements packed in `packed`; false when some value is not centred (untrusted input). */
  unpack(packed: Uint8Array, v: Int32Array): boolean;
}

/** A reconstruction part: Int32 elements, or the same elements packed 3 bytes each. */
export type FieldPart = Int32Array | Uint8Array;

function checkQms(n: number, u: StreamRef | null, s0: StreamRef | null, q: Int32Array | null, masked: Int32Array | null, share1: Int32Array | null): void {
  if (s0 && !u) throw new TypeError('quantizeMaskShare: a share stream needs a mask stream');
  if (u && !masked) throw new TypeError('quantizeMaskShare: a mask stream needs the masked output');
  if (s0 && !share1) throw new TypeError('quantizeMaskShare: a share stream needs the share output');
  if (!u && !q) throw new TypeError('quantizeMaskShare: nothing to write');
  for (const a of [q, u ? masked : null, s0 ? share1 : null]) {
    if (a && a.length !== n) throw new RangeError(`quantizeMaskShare: output of ${a.length} elements for ${n} inputs`);
  }
}

function checkQmp(n: number, s0: StreamRef | null, d: StreamRef | null, q: Int32Array | null, packed: Uint8Array | null): void {
  if (!q && !packed) throw new TypeError('quantizeMaskPack: nothing to write');
  if (packed && (!s0 || !d)) throw new TypeError('quantizeMaskPack: the packed output needs the s0 and d streams');
  if (q && q.length !== n) throw new RangeError(`quantizeMaskPack: q has ${q.length} elements for ${n} inputs`);
  if (packed && packed.length !== 3 * n) throw new RangeError(`quantizeMaskPack: packed has ${packed.length} bytes for ${n} inputs (need ${3 * n})`);
}

/** A part handed to reconstructDequantize for checking holds a value outside [−HALF, HALF]. */
export class NonCentredPartError extends Error {
  override name = 'NonCentredPartError';
  constructor(readonly part: number) {
    super(`part ${part}: values outside the centred range of Z_P`);
  }
}

function checkParts(parts: number, masks: number): void {
  if (parts < 1 || parts > 4 || masks > 3 || parts + masks > 6) {
    throw new RangeError(`reconstructDequantize: 1–4 parts and 0–3 masks, at most 6 in all (got ${parts} + ${masks})`);
  }
}

/** The TypeScript reference (always available). */
export function createJsKernels(): EnclaveKernels {
  const pool = new NamedBuffers();
  const kernels: EnclaveKernels = {
    name: 'js',
    maxAbs: (x) => maxAbsRef(x),
    isCentred: (v) => isCentredArray(v),
    exponent: (x) => exponentOf(maxAbsRef(x)),
    quantizeMaskShare(x, e, noise, u, s0, q, masked, share1) {
      const n = x.length;
      checkQms(n, u, s0, q, masked, share1);
      const qq = q ?? pool.int32('q', n);
      quantize(x, NoiseStream.open(noise.key, noise.id), qq, e);
      if (!u || !masked) return;
      const uu = FieldStream.open(u.key, u.id).fillCentred(pool.int32('u', n));
      const ss = s0 ? FieldStream.open(s0.key, s0.id).fillCentred(pool.int32('s0', n)) : null;
      maskAndShare(qq, uu, ss, masked, s0 ? share1 : null);
    },
    quantizeMaskPack(x, e, noise, s0, d, q, packed) {
      const n = x.length;
      checkQmp(n, s0, d, q, packed);
      const max = maxAbsRef(x);
      const qq = q ?? pool.int32('q', n);
      quantize(x, NoiseStream.open(noise.key, noise.id), qq, e);
      if (!packed || !s0 || !d) return max;
      const m = FieldStream.open(s0.key, s0.id).fillCentred(pool.int32('s0', n));
      const dd = FieldStream.open(d.key, d.id).fillCentred(pool.int32('d', n));
      const t = subModP(subModP(qq, m, m), dd, m);
      packCentred24(t, packed);
      return max;
    },
    reconstructDequantize(parts, masks, scaleExp, out, checkFirst = 0) {
      checkParts(parts.length, masks.length);
      const n = out.length;
      const ints = parts.map((p, k) => {
        if (!(p instanceof Uint8Array)) {
          if (k < checkFirst && !isCentredArray(p)) throw new NonCentredPartError(k);
          return p;
        }
        const v = pool.int32(`p${k}`, n);
        if (!unpackCentred24(p, v) && k < checkFirst) throw new NonCentredPartError(k);
        return v;
      });
      const drawn = masks.map((m, i) => FieldStream.open(m.key, m.id).fillCentred(pool.int32(`m${i}`, n)));
      return reconstructDequantize([...ints, ...drawn], scaleExp, out).maxAbs;
    },
    fillCentred: (s, out) => FieldStream.open(s.key, s.id).fillCentred(out),
    pack: (v, packed) => packCentred24(v, packed),
    unpack: (packed, v) => unpackCentred24(packed, v),
  };
  return kernels;
}

/** The addon's raw enclave entry points (native/src/addon_enclave.cc; the kernels below wrap them, `goten bench sweeps` calls some directly). */
export interface EnclaveAddon {
  enclaveInfo(): { aes: 'vaes512' | 'vaes' | 'aesni' | 'none' };
  prgCentred(ref: Uint8Array, out: Int32Array): void;
  maxAbsF32(x: Float32Array): number;
  isCentredI32(v: Int32Array): boolean;
  quantizeMaskShare(
    x: Float32Array,
    scaleExp: number,
    noiseRef: Uint8Array,
    uRef: Uint8Array | null,
    s0Ref: Uint8Array | null,
    q: Int32Array | null,
    e: Int32Array | null,
    s1: Int32Array | null,
  ): void;
  reconstructDequantize(parts: FieldPart[], maskRefs: Uint8Array[], scaleExp: number, out: Float32Array, checkFirst?: number): number;
  quantizeMaskPack(x: Float32Array, scaleExp: number, noiseRef: Uint8Array, s0Ref: Uint8Array | null, dRef: Uint8Array | null, q: Int32Array | null, packed: Uint8Array | null): number;
  packCentred24(v: Int32Array, packed: Uint8Array): void;
  unpackCentred24(packed: Uint8Array, v: Int32Array): boolean;
}

/** 24-byte stream reference for the addon: key ‖ id (big-endian). */
export function ref(s: StreamRef): Uint8Array {
  if (s.key.length !== 16) throw new TypeError('stream key must be 16 bytes');
  const r = new Uint8Array(24);
  r.set(s.key);
  new DataView(r.buffer).setBigUint64(16, s.id, false);
  return r;
}

let addon: EnclaveAddon | null | undefined;
let addonReason = '';

function loadAddon(): EnclaveAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.GOTEN_NATIVE_DISABLE === '1') {
    addonReason = 'disabled by GOTEN_NATIVE_DISABLE=1';
    return addon;
  }
  try {
    const mod = requireNativeModule() as Partial<EnclaveAddon> & { unavailable?: string };
    if (typeof mod.unavailable === 'string') addonReason = mod.unavailable;
    else if (typeof mod.quantizeMaskPack !== 'function' || typeof mod.isCentredI32 !== 'function' || typeof mod.enclaveInfo !== 'function')
      addonReason = 'the @goten/native addon has no enclave kernels (outdated build; run `npm rebuild @goten/native`)';
    else if (mod.enclaveInfo().aes === 'none') addonReason = 'this CPU has no AES-NI';
    else addon = mod as EnclaveAddon;
  } catch (e) {
    addonReason = `cannot load @goten/native: ${(e as Error).message.split('\n')[0]}`;
  }
  return addon;
}

/** Whether the native kernels can run here, and why not. */
export function nativeKernelsAvailability(): { available: boolean; reason?: string; aes?: string } {
  const a = loadAddon();
  return a ? { available: true, aes: a.enclaveInfo().aes } : { available: false, reason: addonReason };
}

/** The addon's kernels; throws with the reason when they cannot run here. */
export function createNativeKernels(): EnclaveKernels {
  const a = loadAddon();
  if (!a) throw new Error(`native enclave kernels unavailable: ${addonReason}`);
  const maxAbs = (x: Float32Array): number => {
    const m = a.maxAbsF32(x);
    return Number.isNaN(m) ? maxAbsRef(x) /* throws, naming the element */ : m;
  };
  return {
    name: 'native',
    maxAbs,
    isCentred: (v) => a.isCentredI32(v),
    exponent: (x) => exponentOf(maxAbs(x)),
    quantizeMaskShare(x, e, noise, u, s0, q, masked, share1) {
      checkQms(x.length, u, s0, q, masked, share1);
      if (!Number.isInteger(e) || e < EXP_MIN || e > EXP_MAX) throw new RangeError(`quantize: exponent must be an integer in [${EXP_MIN}, ${EXP_MAX}], got ${e}`);
      a.quantizeMaskShare(x, FRAC_SHIFT - e, ref(noise), u ? ref(u) : null, s0 ? ref(s0) : null, q, u ? masked : null, s0 ? share1 : null);
    },
    quantizeMaskPack(x, e, noise, s0, d, q, packed) {
      checkQmp(x.length, s0, d, q, packed);
      if (!Number.isInteger(e) || e < EXP_MIN || e > EXP_MAX) throw new RangeError(`quantize: exponent must be an integer in [${EXP_MIN}, ${EXP_MAX}], got ${e}`);
      const m = a.quantizeMaskPack(x, FRAC_SHIFT - e, ref(noise), packed ? ref(s0!) : null, packed ? ref(d!) : null, q, packed);
      return Number.isNaN(m) ? maxAbsRef(x) /* throws, naming the element */ : m;
    },
    reconstructDequantize(parts, masks, scaleExp, out, checkFirst = 0) {
      checkParts(parts.length, masks.length);
      if (checkFirst > parts.length) throw new RangeError('reconstructDequantize: checkFirst exceeds the number of parts');
      const r = a.reconstructDequantize(parts as FieldPart[], masks.map(ref), scaleExp, out, checkFirst);
      if (r < 0) throw new NonCentredPartError(-r - 1);
      return r;
    },
    fillCentred(s, out) {
      a.prgCentred(ref(s), out);
      return out;
    },
    pack(v, packed) {
      a.packCentred24(v, packed);
      return packed;
    },
    unpack: (packed, v) => a.unpackCentred24(packed, v),
  };
}

export type KernelChoice = 'js' | 'native' | 'auto';

/** js, native, or auto (native when available, else js). */
export function enclaveKernels(choice: KernelChoice = 'auto'): EnclaveKernels {
  if (choice === 'js') return createJsKernels();
  if (choice === 'native' || loadAddon()) return createNativeKernels();
  return createJsKernels();
}
