/**
 * Loader and type declarations of the `@goten/native` addon (native/), which
 * exports either the compiled kernels or `{ unavailable: reason }` when the
 * build failed or was skipped. Loaded once, lazily, through createRequire
 * because the addon is a CommonJS `.node` module, and by its path in this code
 * base rather than by package name: installed from the goten-ts tarball, the
 * addon's sources ship inside the package (built by its install script) and no
 * `@goten/native` package exists.
 *
 * GOTEN_NATIVE_DISABLE=1 makes the addon count as unavailable (to exercise the
 * fallback paths without rebuilding).
 */
import { createRequire } from 'node:module';
import type { ConvGeometry } from '../tensor/geometry.js';

export interface NativeInfo {
  /** 'openblas' when linked against OpenBLAS at build time, 'builtin' for the fallback kernel. */
  readonly blas: 'openblas' | 'builtin';
  /** BLAS threads used by each GEMM call (1 for the built-in kernel). */
  readonly threads: number;
  /** BLAS build/configuration string (OpenBLAS: version, DYNAMIC_ARCH, core). */
  readonly config: string;
  /** Bytes held now by this thread's workspace (the arena all kernel temporaries come from). */
  readonly scratchBytes: number;
  /**
   * Most bytes this thread's workspace held at any time since it started or since
   * releaseScratch(). Above workspaceLimit only when some call's smallest piece did
   * not fit (float32 conv: one image's column matrix; mod-P conv: one input channel
   * of one image with its float64 output; see native/README.md); that call's
   * workspace was freed on return.
   */
  readonly scratchPeakBytes: number;
  /** This thread's workspace limit in bytes (the last setWorkspaceLimit; 16 MiB before any). */
  readonly workspaceLimit: number;
}

type F32 = Float32Array;
type I32 = Int32Array;
type F64 = Float64Array;

/**
 * The raw addon. GEMMs take positional shapes (m, k, n, transA, transB) to keep
 * per-call overhead low; conv kernels take a ConvGeometry object. All functions are
 * synchronous, write into the caller's output, and throw TypeError/RangeError
 * (never crash) on bad arguments: wrong array type, a length other than the
 * shape's, overlapping output and input, non-integer shapes, non-centred mod-P input.
 */
export interface NativeAddon {
  info(): NativeInfo;
  setThreads(n: number): void;
  /** Frees this thread's workspace (re-created on demand) and resets scratchPeakBytes. */
  releaseScratch(): void;
  /**
   * This thread's workspace limit (integer bytes in [0, 2^53]): kernels split their
   * work so that their temporaries fit it; a workspace above it is freed at once.
   */
  setWorkspaceLimit(bytes: number): void;
  /** Images per conv GEMM; 0 (the default) picks it from a cache budget. For tests and tuning. */
  setConvGroup(n: number): void;
  sgemm(m: number, k: number, n: number, transA: boolean, transB: boolean, a: F32, b: F32, c: F32, accumulate?: boolean): void;
  dgemm(m: number, k: number, n: number, transA: boolean, transB: boolean, a: F64, b: F64, c: F64, accumulate?: boolean): void;
  gemmModP(m: number, k: number, n: number, transA: boolean, transB: boolean, a: I32, b: I32, c: I32): void;
  /** x: N×C×H×W → col: (C·kH·kW) × (N·OH·OW), columns ordered (n, oh, ow). */
  im2col<T extends F32 | F64>(g: ConvGeometry, x: T, col: T): void;
  /** The adjoint of im2col: x = Σ of the column entries read from each pixel (x is overwritten). */
  col2im<T extends F32 | F64>(g: ConvGeometry, col: T, x: T): void;
  conv2dF32(g: ConvGeometry, x: F32, w: F32, y: F32): void;
  conv2dGradInputF32(g: ConvGeometry, dy: F32, w: F32, dx: F32): void;
  conv2dGradWeightF32(g: ConvGeometry, dy: F32, x: F32, dw: F32): void;
  conv2dModP(g: ConvGeometry, x: I32, w: I32, y: I32): void;
  conv2dGradInputModP(g: ConvGeometry, dy: I32, w: I32, dx: I32): void;
  conv2dGradWeightModP(g: ConvGeometry, dy: I32, x: I32, dw: I32): void;
  /** glibc: fixed 128 KiB mmap threshold and one arena, so freed tensor blocks leave the RSS; false elsewhere. */
  tuneMallocForBudget?(): boolean;
  /** glibc malloc_trim(0); false elsewhere. */
  mallocTrim?(): boolean;
  /** AES-256-GCM into caller buffers (Node's OpenSSL; src/tee/aead.ts). Absent in addons built before it. */
  aeadAvailable?(): boolean;
  /** out ← E(plain) (same length; in place allowed), tag ← the 16-byte GCM tag. */
  aesGcmSeal?(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array, tag: Uint8Array): void;
  /** out ← D(ct) and true when the tag verifies; false with out zeroed otherwise. */
  aesGcmOpen?(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array, out: Uint8Array): boolean;
}

export type AddonLoad = { readonly ok: true; readonly addon: NativeAddon } | { readonly ok: false; readonly reason: string };

let loaded: AddonLoad | undefined;

/**
 * native/index.cjs as `require` returns it: the compiled addon, `{ unavailable }`, or a throw. From
 * src/addon/ (tsx) or dist/src/addon/ (compiled), native/ is two or three folders up.
 */
export function requireNativeModule(): unknown {
  const fromSource = import.meta.url.endsWith('.ts');
  return createRequire(import.meta.url)(fromSource ? '../../native/index.cjs' : '../../../native/index.cjs');
}

/** Loads the addon once; later calls return the same result. */
export function loadNativeAddon(): AddonLoad {
  if (loaded) return loaded;
  if (process.env.GOTEN_NATIVE_DISABLE === '1') {
    loaded = { ok: false, reason: 'disabled by GOTEN_NATIVE_DISABLE=1' };
    return loaded;
  }
  try {
    const mod = requireNativeModule() as Partial<NativeAddon> & { unavailable?: string };
    if (typeof mod.unavailable === 'string') loaded = { ok: false, reason: mod.unavailable };
    else if (typeof mod.gemmModP !== 'function' || typeof mod.info !== 'function' || typeof mod.setWorkspaceLimit !== 'function')
      loaded = { ok: false, reason: 'the @goten/native addon is outdated (missing kernels); run `npm rebuild @goten/native`' };
    else loaded = { ok: true, addon: mod as NativeAddon };
  } catch (e) {
    loaded = { ok: false, reason: `cannot load @goten/native: ${(e as Error).message.split('\n')[0]}` };
  }
  return loaded;
}
