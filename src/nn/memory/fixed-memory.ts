/**
 * What ManagedMemory counts but never offloads (docs/memory.md, "fixed"): the model's resident
 * parameters, gradients and BN buffers, the executor's own buffers, the optimizer's state, the native
 * workspace and the transport's idle receive buffers; and the process-wide malloc tuning it asks for once.
 */
import { loadNativeAddon } from '../../addon/addon.js';
import type { FixedCategory } from '../../tee/memory-budget.js';
import type { FixedSources, TrackedModel } from './managed-memory-types.js';
import type { ParameterStore } from './parameter-store.js';

/**
 * Bytes per fixed category, in the order the budget has always been updated (a model's categories only
 * while one is attached). Sealed mode counts only plain resident copies: leased ones are pool memory.
 */
export function fixedMemory(m: TrackedModel | null, params: ParameterStore | null, sources: FixedSources): Partial<Record<FixedCategory, number>> {
  const out: Partial<Record<FixedCategory, number>> = {};
  const sum = (xs: { value: Float32Array }[]): number => xs.reduce((a, p) => a + p.value.byteLength, 0);
  if (m !== null) {
    const ps = m.parameters();
    const r = params?.residentBytes() ?? { parameters: sum(ps), gradients: ps.reduce((a, p) => a + p.grad.byteLength, 0) };
    out.parameters = r.parameters;
    out.gradients = r.gradients;
    out.buffers = sum(m.buffers());
    out.executor = m.executor().memoryBytes();
  }
  out.optimizer = sources.optimizer?.stateBytes?.() ?? 0;
  const b = sources.backend as { info?(): { scratchBytes?: number } } | undefined;
  const info = typeof b?.info === 'function' ? b.info() : undefined;
  out.backend = typeof info?.scratchBytes === 'number' ? info.scratchBytes : 0;
  out.transport = sources.transport?.stats().retainedBytes ?? 0;
  return out;
}

let mallocTuned = false;

/** See ManagedMemoryOptions.tuneMalloc. */
export function tuneMallocOnce(): void {
  if (mallocTuned) return;
  mallocTuned = true;
  const l = loadNativeAddon();
  if (l.ok) l.addon.tuneMallocForBudget?.();
}
