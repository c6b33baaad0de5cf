/**
 * The neural-network engine's public surface: models and their configs, layers,
 * loss, optimizers, schedules, initialisation, the seeded Rng and the plain executor.
 * (The trainer and checkpoints live beside it in trainer.ts / checkpoint.ts.)
 */
export type { ExecutorStats, LinearExecutor, OpTag } from './executor.js';
export { fans, fillNormal, fillUniform, INIT_KINDS, type InitKind, type InitOptions, initWeight } from './init.js';
export { BatchNorm, type BatchNormOptions } from './layers/batchnorm.js';
export { Conv2d, type Conv2dOptions } from './layers/conv2d.js';
export { Dropout } from './layers/dropout.js';
export { Flatten } from './layers/flatten.js';
export {
  type Layer,
  type LayerContext,
  type LinearLayerInfo,
  makeParameter,
  ParameterFreeLayer,
  parameterSize,
  ShapePreservingLayer,
  TensorParameter,
} from './layers/layer.js';
export { type LayerMemory, ManagedMemory, type ManagedMemoryOptions, type MemoryOwner, PrivateMemory } from './memory/index.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { AvgPool2d, GlobalAvgPool } from './layers/avgpool.js';
export { MaxPool2d, type PoolOptions, type Window } from './layers/pool.js';
export { ReLU } from './layers/relu.js';
export { Residual } from './layers/residual.js';
export { type LossResult, softmaxCrossEntropy } from './loss.js';
export { type ModelBuffer, type LayerSummary, type Model, type ModelContext, modelContext, type Parameter, SequentialModel } from './model.js';
export {
  type BuildOptions,
  buildModel,
  defaultExecutor,
  type LayerSpec,
  type ModelConfig,
  modelNames,
  type Pair,
  presetConfig,
  validateModelConfig,
} from './models/index.js';
export { Adam, type AdamOptions, type FusableOptimizer, type Optimizer, type OptimizerState, SGD, type SgdOptions, type SlotStream } from './optim.js';
export { PlainExecutor } from './plain-executor.js';
export { Rng } from './rng.js';
export { type StepOutcome, type StepPhase, trainStep, type TrainStepOptions } from './train-step.js';
export { constantLr, cosineLr, type LrSchedule, parseSchedule, type ScheduleOptions, stepLr } from './schedule.js';
