/**
 * Layer memory (docs/memory.md): the `ctx.mem` contract layers allocate and save through, its unmanaged
 * implementation, and managed mode — pooled buffers, saved-tensor records that may be sealed out to
 * untrusted storage, parameters and optimizer state sealed at rest, and the manager that keeps the
 * enclave's tensor memory within its budget.
 */
export { ManagedMemory, type ManagedMemoryOptions, type ManagedMemoryReport, type FixedSources, type TrackedModel } from './managed-memory.js';
export { type LayerMemory, type MemoryOwner, sameBuffer } from './layer-memory.js';
export { ParameterStore, type ParameterStoreStats } from './parameter-store.js';
export { PrivateMemory } from './private-memory.js';
export { SavedTensors } from './saved.js';
export { sizeClass, TensorPool } from './tensor-pool.js';
export { MAX_CHUNK_BYTES, SavedRecord, type StoreStats, TensorStore } from './tensor-store.js';
