/**
 * goten-ts as a library: the package's main entry (package.json `exports` "."). What a program needs to
 * build a model, load data, pick an execution mode and train or predict — the same functions the `goten`
 * command uses, so a script and `goten train` configure a run alike. The client library of the enclave
 * service is the "goten-ts/client" entry (src/client/index.ts). Example: examples/library.mjs.
 *
 * It re-exports and adds nothing; a file at the top of src/ rather than in a folder because it is the
 * package's face, not a layer of its own (docs/architecture.md).
 */
export * from './nn/index.js';
export { evaluate, train, type EpochMetrics, type StepProgress, type TrainOptions, type TrainResult } from './nn/trainer.js';
export { buildOptimizer, buildSchedule, defaultLr, hyperOf, scheduleSpec, type Hyper, type TrainConfig } from './nn/train-config.js';
export { BASE_RECIPE, modelRecipe, type Recipe } from './nn/models/index.js';
export {
  captureCheckpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  restoreModel,
  saveCheckpoint,
  type Checkpoint,
  type CheckpointInfo,
} from './nn/checkpoint.js';
export { argmaxRows, forwardLogits, inferenceModel, normalizeInputs, softmaxRows, type InferenceModel } from './nn/inference.js';
export * from './data/index.js';
export { Tensor } from './tensor/tensor.js';
export { type Backend, type BackendName, backendNames, getBackend, nativeAvailability } from './backend/index.js';
export {
  createExecutor,
  createModeExecutor,
  type ExecutorOptions,
  type Mode,
  type ModeExecutorOptions,
  MODES,
  parseMode,
  resolveBackend,
} from './modes/executors.js';
export { DEFAULT_PROTOCOL, PROTOCOLS, type ProtocolName } from './protocol/variant.js';
