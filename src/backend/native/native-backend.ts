/**
 * The native backend: the Backend interface over the `@goten/native` addon
 * (OpenBLAS sgemm/dgemm, or the addon's built-in blocked GEMM when OpenBLAS was
 * missing at build time; im2col/col2im and the mod-P passes in C++).
 *
 * Mod-P kernels widen centred Int32 operands to float64 and run dgemm on K-chunks
 * of at most 8192 terms with a centred reduction between chunks, so they are exact
 * for any K (8192·HALF² < 2^53). All argument checking happens in the addon:
 * exact buffer lengths, array types, no output/input overlap, centred operands.
 *
 * Workspace: the kernels' temporaries (im2col columns, float64 mod-P operands and
 * accumulators) come from one arena per thread in the addon, kept between calls
 * but bounded by a limit: a kernel whose whole-tensor temporaries would exceed it
 * works in pieces (groups of images, channel blocks, GEMM row/column blocks).
 * Each backend has its limit (`workspaceBytes`, default GOTEN_NATIVE_WORKSPACE_MIB
 * or 16 MiB) and applies it on every kernel call, so `info().scratchBytes` stays
 * within the limit of the backend that ran last on this thread. Mod-P results are
 * identical for every limit; float32 results may differ in the last bits between
 * limits (other GEMM widths and partial sums), never between runs with one limit.
 */
import { type Backend, BackendUnavailableError, type GemmShape } from '../backend.js';
import type { ConvGeometry } from '../../tensor/geometry.js';
import { type NativeAddon, type NativeInfo, loadNativeAddon } from '../../addon/addon.js';

export type { NativeAddon, NativeInfo } from '../../addon/addon.js';

/**
 * Default workspace limit: 16 MiB. On the bench kernels' VGG-like shapes it costs
 * a few percent of throughput against no limit (docs/benchmarks.md); the unbounded
 * workspace of a VGG-11 step at batch 32 was 34 MiB (float32) and 70 MiB (mod P).
 */
export const DEFAULT_NATIVE_WORKSPACE_BYTES = 16 * 2 ** 20;

/** Environment variable with the default limit in MiB (fractions allowed; `Infinity` for none). */
export const NATIVE_WORKSPACE_ENV = 'GOTEN_NATIVE_WORKSPACE_MIB';

/** The largest limit the addon takes; `Infinity` maps to it. */
const UNBOUNDED = 2 ** 53;

export interface NativeBackendOptions {
  /**
   * Workspace limit in bytes while this backend's kernels run: an integer ≥ 0, or
   * Infinity for none. Default: GOTEN_NATIVE_WORKSPACE_MIB, else 16 MiB. A call whose
   * smallest piece exceeds it (float32 conv: one image's column matrix; mod-P conv:
   * one input channel of one image with its float64 output) takes what it needs and
   * frees it on return (see info().scratchPeakBytes).
   */
  readonly workspaceBytes?: number;
}

/** The default limit: GOTEN_NATIVE_WORKSPACE_MIB (MiB) when set, else 16 MiB. */
export function defaultWorkspaceBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[NATIVE_WORKSPACE_ENV]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_NATIVE_WORKSPACE_BYTES;
  const mib = Number(raw);
  if (Number.isNaN(mib) || mib < 0)
    throw new RangeError(`${NATIVE_WORKSPACE_ENV} must be a number of MiB >= 0 (or Infinity), got '${raw}'`);
  return mib === Infinity ? Infinity : Math.round(mib * 2 ** 20);
}

function checkWorkspaceBytes(v: number): number {
  if (v !== Infinity && !(Number.isInteger(v) && v >= 0))
    throw new RangeError(`workspaceBytes must be an integer >= 0 or Infinity, got ${String(v)}`);
  return v;
}

export class NativeBackend implements Backend {
  readonly name = 'native';
  /** This backend's workspace limit in bytes (Infinity: none). */
  readonly workspaceBytes: number;
  private readonly limit: number;

  constructor(
    private readonly addon: NativeAddon,
    opts: NativeBackendOptions = {},
  ) {
    this.workspaceBytes = checkWorkspaceBytes(opts.workspaceBytes ?? defaultWorkspaceBytes());
    this.limit = Math.min(this.workspaceBytes, UNBOUNDED);
  }

  /**
   * BLAS flavour and threads of the loaded addon, and this thread's workspace:
   * held bytes, peak and the limit last applied (by whichever native backend ran last here).
   */
  info(): NativeInfo {
    return this.addon.info();
  }

  /** The addon, with this backend's workspace limit applied to the calling thread. */
  private ws(): NativeAddon {
    this.addon.setWorkspaceLimit(this.limit);
    return this.addon;
  }

  /** Number of BLAS threads per GEMM (OpenBLAS only; the built-in kernel is single-threaded). */
  setThreads(n: number): void {
    this.addon.setThreads(n);
  }

  /** Frees the calling thread's workspace (re-allocated on the next call) and resets its peak. */
  releaseScratch(): void {
    this.addon.releaseScratch();
  }

  gemmF32(s: GemmShape, a: Float32Array, b: Float32Array, c: Float32Array, accumulate = false): void {
    this.ws().sgemm(s.m, s.k, s.n, s.transA === true, s.transB === true, a, b, c, accumulate === true);
  }

  /** Float64 GEMM (not part of Backend): C (+)= op(A)·op(B). */
  gemmF64(s: GemmShape, a: Float64Array, b: Float64Array, c: Float64Array, accumulate = false): void {
    this.ws().dgemm(s.m, s.k, s.n, s.transA === true, s.transB === true, a, b, c, accumulate === true);
  }

  gemmModP(s: GemmShape, a: Int32Array, b: Int32Array, c: Int32Array): void {
    this.ws().gemmModP(s.m, s.k, s.n, s.transA === true, s.transB === true, a, b, c);
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
    this.ws().conv2dF32(g, x, w, y);
  }

  conv2dGradInputF32(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
    this.ws().conv2dGradInputF32(g, dy, w, dx);
  }

  conv2dGradWeightF32(g: ConvGeometry, dy: Float32Array, x: Float32Array, dw: Float32Array): void {
    this.ws().conv2dGradWeightF32(g, dy, x, dw);
  }

  conv2dModP(g: ConvGeometry, x: Int32Array, w: Int32Array, y: Int32Array): void {
    this.ws().conv2dModP(g, x, w, y);
  }

  conv2dGradInputModP(g: ConvGeometry, dy: Int32Array, w: Int32Array, dx: Int32Array): void {
    this.ws().conv2dGradInputModP(g, dy, w, dx);
  }

  conv2dGradWeightModP(g: ConvGeometry, dy: Int32Array, x: Int32Array, dw: Int32Array): void {
    this.ws().conv2dGradWeightModP(g, dy, x, dw);
  }
}

/** Whether the addon loaded, why not, and which BLAS it uses. */
export function nativeAvailability(): { available: boolean; reason?: string; blas?: string } {
  const r = loadNativeAddon();
  if (!r.ok) return { available: false, reason: r.reason };
  return { available: true, blas: r.addon.info().blas };
}

/** A native backend, or BackendUnavailableError with the reason the addon is missing. */
export function createNativeBackend(opts: NativeBackendOptions = {}): NativeBackend {
  const r = loadNativeAddon();
  if (!r.ok) throw new BackendUnavailableError('native', r.reason);
  return new NativeBackend(r.addon, opts);
}
