/**
 * The options, fixed-memory sources and report of ManagedMemory (managed-memory.ts), apart so that
 * the manager's file holds only its policy.
 */
import type { UntrustedBacking } from '../../tee/chunk-store.js';
import type { MemoryReport } from '../../tee/memory-budget.js';
import type { Sealer } from '../../tee/seal.js';
import type { LinearExecutor } from '../executor.js';
import type { ModelBuffer, Parameter } from '../layers/parameter.js';
import type { ParameterStoreStats } from './parameter-store.js';
import type { StoreStats } from './tensor-store.js';

export interface ManagedMemoryOptions {
  /** Budget for managed tensor memory in bytes (default 90 MiB). */
  budgetBytes?: number;
  /** Sealer for offloaded chunks (default: a fresh random AES-256 key that never leaves this process). */
  sealer?: Sealer;
  /** Where sealed chunks go (default: host memory; FileBacking for files). */
  backing?: UntrustedBacking;
  /** Plaintext bytes per sealed chunk (default and maximum 1 MiB). */
  chunkBytes?: number;
  /** Working-set reserve in multiples of the step's largest buffer (default 4). */
  reserveFactor?: number;
  /**
   * Called after every burst of sealing or unsealing, e.g. `globalThis.gc` under `node --expose-gc`
   * (with the native addon, sealing allocates nothing per chunk; without it node:crypto does). Default: none.
   */
  collect?: () => void;
  /**
   * Process-wide, once: glibc malloc with a fixed 128 KiB mmap threshold and one arena (native addon), so
   * tensor-sized blocks the pool drops go back to the kernel instead of staying in malloc's arenas; measured
   * −50 MiB peak RSS on a VGG-11 step (docs/memory.md). Default true; no-op without the addon or glibc.
   */
  tuneMalloc?: boolean;
  /**
   * Parameters, gradients and optimizer state: 'sealed' (default) — sealed out in untrusted storage
   * between uses, unsealed per leaf layer into pooled buffers, gradients only during the layer's
   * backward, the optimizer update fused into backward (attachOptimizer; parameter-store.ts) — or
   * 'resident' — the layers' own arrays, counted as fixed memory.
   */
  parameters?: 'sealed' | 'resident';
}

/** The model-side sources of fixed memory. */
export interface TrackedModel {
  parameters(): Parameter[];
  buffers(): ModelBuffer[];
  executor(): LinearExecutor;
}

/** Optional extra sources of fixed memory the model does not know about. */
export interface FixedSources {
  optimizer?: { stateBytes?(): number };
  /** A backend that reports its native workspace (`info().scratchBytes`). */
  backend?: unknown;
  /** The transport's own receive-buffer pool (secure mode): its idle bytes; in managed mode JSON frames only (tensor frames land in the pool). */
  transport?: { stats(): { retainedBytes: number } };
}

export interface ManagedMemoryReport extends MemoryReport {
  pool: { allocated: number; inUse: number; allocations: number; leases: number };
  store: StoreStats & { resident: number; sealed: number; records: number };
  /** Training steps completed (forward + backward) under this manager. */
  steps: number;
  /** Sealed parameters and optimizer state ('sealed' mode; null when resident): traffic and chunks kept. */
  parameters: (ParameterStoreStats & { chunks: number }) | null;
}
