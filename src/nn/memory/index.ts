/**
 * Managed memory mode (docs/memory.md): pooled buffers, saved-tensor records that may be sealed out to
 * untrusted storage, and the manager that keeps the enclave's activation memory within its budget.
 */
export { ActivationMemory, type ActivationMemoryOptions, type ActivationReport, type FixedSources, type TrackedModel } from './activation-memory.js';
export { SavedTensors } from './saved.js';
export { sizeClass, TensorPool } from './tensor-pool.js';
export { MAX_CHUNK_BYTES, SavedRecord, type StoreStats, TensorStore } from './tensor-store.js';
