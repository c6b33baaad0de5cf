/**
 * The process's non-linear kernels: native (the addon) when it is built, loads, has these
 * kernels and GOTEN_NATIVE_DISABLE is not 1; the TypeScript reference otherwise. Chosen
 * once, on first use, for the whole process — and the two are bit-identical (types.ts),
 * so the choice changes speed, never results.
 */
import { createNativeNnKernels, loadNnAddon } from './native.js';
import { referenceNnKernels } from './reference.js';
import type { NnKernels } from './types.js';

export { referenceNnKernels } from './reference.js';
export type { AdamStep, ChannelShape, NnKernels, PoolGeometry, SgdStep } from './types.js';

export interface NnKernelsChoice {
  readonly kernels: NnKernels;
  /** Why the reference runs (absent for native). */
  readonly reason?: string;
  /** The native loops' instruction set (absent for the reference). */
  readonly simd?: 'avx2' | 'scalar';
}

let choice: NnKernelsChoice | undefined;

function choose(): NnKernelsChoice {
  const l = loadNnAddon();
  if (!l.ok) return { kernels: referenceNnKernels, reason: l.reason };
  return { kernels: createNativeNnKernels(l.addon), simd: l.addon.nnInfo().simd };
}

/** The kernels every layer and optimizer of this process runs. */
export function nnKernels(): NnKernels {
  return (choice ??= choose()).kernels;
}

/** Which kernels run, and why the native ones do not (for logs and benchmarks). */
export function nnKernelsChoice(): NnKernelsChoice {
  return (choice ??= choose());
}
