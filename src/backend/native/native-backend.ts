/**
 * The native backend: the Backend interface over the `@goten/native` addon
 * (OpenBLAS sgemm/dgemm, or the addon's built-in blocked GEMM when OpenBLAS was
 * missing at build time; im2col/col2im and the mod-P passes in C++).
 *
 * Mod-P kernels widen centred Int32 operands to float64 and run dgemm on K-chunks
 * of at most 8192 terms with a centred reduction between chunks, so they are exact
 * for any K (8192·HALF² < 2^53). Scratch buffers live in the addon, one set per
 * thread, allocated once and reused. All argument checking happens in the addon:
 * exact buffer lengths, array types, no output/input overlap, centred operands.
 */
import { type Backend, BackendUnavailableError, type GemmShape } from '../backend.js';
import type { ConvGeometry } from '../geometry.js';
import { type NativeAddon, type NativeInfo, loadNativeAddon } from './addon.js';

export type { NativeAddon, NativeInfo } from './addon.js';

export class NativeBackend implements Backend {
  readonly name = 'native';

  constructor(private readonly addon: NativeAddon) {}

  /** BLAS flavour and threads of the loaded addon. */
  info(): NativeInfo {
    return this.addon.info();
  }

  /** Number of BLAS threads per GEMM (OpenBLAS only; the built-in kernel is single-threaded). */
  setThreads(n: number): void {
    this.addon.setThreads(n);
  }

  /** Frees the calling thread's scratch buffers; they are re-allocated on the next call. */
  releaseScratch(): void {
    this.addon.releaseScratch();
  }

  gemmF32(s: GemmShape, a: Float32Array, b: Float32Array, c: Float32Array, accumulate = false): void {
    this.addon.sgemm(s.m, s.k, s.n, s.transA === true, s.transB === true, a, b, c, accumulate === true);
  }

  /** Float64 GEMM (not part of Backend): C (+)= op(A)·op(B). */
  gemmF64(s: GemmShape, a: Float64Array, b: Float64Array, c: Float64Array, accumulate = false): void {
    this.addon.dgemm(s.m, s.k, s.n, s.transA === true, s.transB === true, a, b, c, accumulate === true);
  }

  gemmModP(s: GemmShape, a: Int32Array, b: Int32Array, c: Int32Array): void {
    this.addon.gemmModP(s.m, s.k, s.n, s.transA === true, s.transB === true, a, b, c);
  }

  /** x: N×C×H×W → col: (C·kH·kW) × (N·OH·OW), columns ordered (n, oh, ow). Not part of Backend. */
  im2col<T extends Float32Array | Float64Array>(g: ConvGeometry, x: T, col: T): void {
    this.addon.im2col(g, x, col);
  }

  /** Adjoint of im2col; overwrites x. Not part of Backend. */
  col2im<T extends Float32Array | Float64Array>(g: ConvGeometry, col: T, x: T): void {
    this.addon.col2im(g, col, x);
  }

  conv2dF32(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array): void {
    this.addon.conv2dF32(g, x, w, y);
  }

  conv2dGradInputF32(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
    this.addon.conv2dGradInputF32(g, dy, w, dx);
  }

  conv2dGradWeightF32(g: ConvGeometry, dy: Float32Array, x: Float32Array, dw: Float32Array): void {
    this.addon.conv2dGradWeightF32(g, dy, x, dw);
  }

  conv2dModP(g: ConvGeometry, x: Int32Array, w: Int32Array, y: Int32Array): void {
    this.addon.conv2dModP(g, x, w, y);
  }

  conv2dGradInputModP(g: ConvGeometry, dy: Int32Array, w: Int32Array, dx: Int32Array): void {
    this.addon.conv2dGradInputModP(g, dy, w, dx);
  }

  conv2dGradWeightModP(g: ConvGeometry, dy: Int32Array, x: Int32Array, dw: Int32Array): void {
    this.addon.conv2dGradWeightModP(g, dy, x, dw);
  }
}

/** Whether the addon loaded, why not, and which BLAS it uses. */
export function nativeAvailability(): { available: boolean; reason?: string; blas?: string } {
  const r = loadNativeAddon();
  if (!r.ok) return { available: false, reason: r.reason };
  return { available: true, blas: r.addon.info().blas };
}

/** A native backend, or BackendUnavailableError with the reason the addon is missing. */
export function createNativeBackend(): NativeBackend {
  const r = loadNativeAddon();
  if (!r.ok) throw new BackendUnavailableError('native', r.reason);
  return new NativeBackend(r.addon);
}
