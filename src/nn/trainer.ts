/**
 * The training loop: epochs of seeded mini-batches, softmax cross-entropy,
 * an optimizer step at a scheduled learning rate, test evaluation in inference
 * mode (BatchNorm running statistics, no dropout) after every epoch, metrics,
 * and checkpoints that make a resumed run continue bit-identically.
 *
 * Exact resumption holds because every input of step t+1 is either saved or
 * recomputed deterministically: weights, BN buffers, optimizer state and the
 * global step (the LR schedule is a function of it), the model Rng (dropout),
 * the loader state (epoch permutation + position + augmentation stream), the
 * executor's own counters (quantized mode: per-op noise attempt numbers) and
 * the running sums of the current epoch's metrics. Checkpoints are written
 * after the epoch's evaluation, because evaluation also advances executor
 * counters.
 *
 * Each step is `trainStep` (train-step.ts), the one step sequence the benchmarks and tests use too.
 * Managed memory with sealed parameters (docs/memory.md): the optimizer's update runs inside
 * model.backward, layer by layer (trainStep takes care of it), and checkpoints are captured and restored with the
 * parameters and optimizer state unsealed for the moment (`withResidentState`). The arithmetic is the
 * same, so a run is bit-identical with or without it, and checkpoints move freely between the two.
 */
import { BatchLoader, type LoaderState } from '../data/loader.js';
import type { Dataset } from '../data/dataset.js';
import { channelStats, type ChannelStats, validateStats } from '../data/normalize.js';
import type { Sealer } from '../tee/seal.js';
import { captureCheckpoint, type Checkpoint, type CheckpointInfo, restoreModel, saveCheckpoint } from './checkpoint.js';
import { type DivergenceGuard, DivergenceError } from './divergence.js';
import type { LinearExecutor } from './executor.js';
import { softmaxCrossEntropy } from './loss.js';
import type { Model } from './model.js';
import type { Optimizer, OptimizerState } from './optim.js';
import type { LrSchedule } from './schedule.js';
import { trainStep } from './train-step.js';

export interface StepProgress {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  step: number;
  lr: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  /** This step's batch: size, mean loss, correct predictions (metrics logs average them per interval). */
  batchSize: number;
  batchLoss: number;
  batchCorrect: number;
}

export interface EpochMetrics {
  /** 1-based epoch number. */
  epoch: number;
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
  testLoss: number;
  imagesPerSecond: number;
  /** Training seconds of this epoch (excluding evaluation). */
  seconds: number;
  evalSeconds: number;
  /** Products that would have wrapped mod P during this epoch (training and evaluation). */
  overflows: number;
  ops: number;
  mode: string;
  lr: number;
  step: number;
}

export interface TrainOptions {
  model: Model;
  data: Dataset;
  optimizer: Optimizer;
  /** Learning rate per step (default: the optimizer's lr, constant). */
  schedule?: LrSchedule;
  /** Total epochs; a resumed run trains from the checkpoint's epoch up to this number. */
  epochs: number;
  batchSize: number;
  seed: number;
  /** Random crop + flip (default: the data set's suggestion, i.e. on for CIFAR). */
  augment?: boolean;
  /** Normalisation (default: measured on the training split). */
  norm?: ChannelStats;
  evalBatchSize?: number;
  /** Run description stored in checkpoints. */
  describe: Pick<CheckpointInfo, 'model' | 'data' | 'mode' | 'hyper'>;
  /** Checkpoint file (sealed to the TEE when `sealer` is given). */
  save?: { path: string; everySteps?: number; sealer?: Sealer };
  resume?: Checkpoint;
  /** Awaited: a metrics log may ask the workers for their counters between steps. */
  onStep?(p: StepProgress): void | Promise<void>;
  onEpoch?(m: EpochMetrics): void | Promise<void>;
  /** Stops (after saving, if `save` is set) once this many global steps are done. */
  stopAtStep?: number;
  /**
   * Watches every step's loss: the run throws a DivergenceError when it says so, and no
   * checkpoint is written while it is alarmed (the last good one stays on disk).
   */
  guard?: DivergenceGuard;
}

export interface TrainResult {
  epochs: EpochMetrics[];
  step: number;
  /** Epochs completed in total (including those before a resume). */
  epoch: number;
  stopped: boolean;
  norm: ChannelStats;
}

interface Totals {
  lossSum: number;
  correct: number;
  seen: number;
}

/** An executor's own state, when it has one (quantized mode: the per-op attempt counters). */
function executorState(e: LinearExecutor): unknown {
  const x = e as unknown as { getState?: () => unknown; attempts?: { getState?: () => unknown } };
  if (typeof x.getState === 'function') return { state: x.getState() };
  if (typeof x.attempts?.getState === 'function') return { attempts: x.attempts.getState() };
  return undefined;
}

function restoreExecutor(e: LinearExecutor, s: unknown): void {
  if (s === undefined || s === null) return;
  const x = e as unknown as { setState?: (v: unknown) => void; attempts?: { setState?: (v: unknown) => void } };
  const v = s as { state?: unknown; attempts?: unknown };
  if ('state' in v && typeof x.setState === 'function') return x.setState(v.state);
  if ('attempts' in v && typeof x.attempts?.setState === 'function') return x.attempts.setState(v.attempts);
  throw new Error(`checkpoint holds executor state this '${e.mode}' executor cannot take (was it saved in another mode?)`);
}

/** Mean loss and accuracy of `model` over one pass of an (unshuffled) loader, in inference mode. */
export async function evaluate(model: Model, loader: BatchLoader): Promise<{ loss: number; accuracy: number }> {
  const grads = new Map<number, Float32Array>();
  let lossSum = 0;
  let correct = 0;
  loader.beginEpoch();
  for (let b = loader.next(); b; b = loader.next()) {
    await yieldToEventLoop();
    const logits = await model.forward(b.x, false);
    const g = grads.get(b.size) ?? new Float32Array(b.size * model.numClasses);
    grads.set(b.size, g);
    const r = softmaxCrossEntropy(logits, b.labels, g);
    lossSum += r.loss * b.size;
    correct += r.correct;
  }
  return { loss: lossSum / loader.split.count, accuracy: correct / loader.split.count };
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, data, optimizer, schedule, batchSize, seed } = opts;
  const baseLr = optimizer.lr;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`epochs must be a positive integer, got ${opts.epochs}`);
  if (model.inputShape.join() !== data.inputShape.join()) {
    throw new Error(`model '${model.name}' takes ${model.inputShape.join('×')} inputs, data ${data.name} has ${data.inputShape.join('×')}`);
  }
  if (model.numClasses < data.numClasses) throw new Error(`model has ${model.numClasses} outputs, data ${data.name} has ${data.numClasses} classes`);
  const executor = model.executor();
  const mem = model.memory();
  // before a resume restores the optimizer's state: sealed mode keeps that state sealed (trainStep would attach it too late)
  if (mem?.sealsParameters) mem.attachOptimizer(optimizer);
  /** Runs fn with parameters and optimizer state resident (sealed mode: unsealed for the moment). */
  const resident = <T>(fn: () => T, write: boolean): Promise<T> => (mem === null ? Promise.resolve(fn()) : mem.withResidentState(fn, { write }));
  const norm = validateStats(opts.resume?.info.norm ?? opts.norm ?? channelStats(data.train), data.inputShape[0]);
  const loader = new BatchLoader(data.train, { batchSize, shuffle: true, seed, norm, augment: opts.augment ?? data.augment });
  const evalLoader = new BatchLoader(data.test, { batchSize: opts.evalBatchSize ?? Math.max(batchSize, 256), shuffle: false, seed: 0, norm });
  let epoch = 0;
  let step = 0;
  let totals: Totals = { lossSum: 0, correct: 0, seen: 0 };
  if (opts.resume) {
    const c = opts.resume;
    checkResumable(c, opts);
    await resident(() => {
      restoreModel(model, c);
      optimizer.setState(c.optimizer as OptimizerState);
    }, true);
    loader.setState(c.rng.loader as LoaderState);
    restoreExecutor(executor, c.executor);
    epoch = c.info.epoch;
    step = c.info.step;
    if (c.info.partial) totals = { ...c.info.partial };
  }
  const save = async (): Promise<void> => {
    if (!opts.save || opts.guard?.alarmed) return;
    const info: CheckpointInfo = {
      ...opts.describe,
      partial: loader.epochInProgress ? { ...totals } : null,
      seed,
      epoch,
      step,
      epochs: opts.epochs,
      batchSize,
      norm,
      numClasses: model.numClasses,
      inputShape: [...data.inputShape],
    };
    const path = opts.save.path;
    const sealer = opts.save.sealer;
    await resident(() => saveCheckpoint(path, captureCheckpoint(model, info, optimizer.getState(), loader.getState(), executorState(executor)), sealer), false);
  };

  const history: EpochMetrics[] = [];
  const grads = new Map<number, Float32Array>();
  while (epoch < opts.epochs) {
    if (!loader.epochInProgress) {
      loader.beginEpoch();
      totals = { lossSum: 0, correct: 0, seen: 0 };
    }
    const before = executor.stats();
    const t0 = performance.now();
    let trained = 0;
    const lrAt = (batch: number): number => schedule?.lrAt(epoch, batch, loader.batchesPerEpoch) ?? baseLr;
    let lr = optimizer.lr;
    for (let b = loader.next(); b; b = loader.next()) {
      lr = lrAt(b.index);
      const g = grads.get(b.size) ?? new Float32Array(b.size * model.numClasses);
      grads.set(b.size, g);
      const check = (loss: number): void => {
        const verdict = opts.guard?.observe(step + 1, loss);
        if (verdict) throw new DivergenceError(verdict, { epoch: epoch + 1, batch: b.index + 1, batchesPerEpoch: loader.batchesPerEpoch, lr });
        if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at step ${step + 1} (try a lower --lr)`);
      };
      const r = await trainStep(model, optimizer, b.x, b.labels, { lr, grad: g, check });
      step++;
      trained += b.size;
      totals.lossSum += r.loss * b.size;
      totals.correct += r.correct;
      totals.seen += b.size;
      const secs = (performance.now() - t0) / 1000;
      await opts.onStep?.({
        epoch: epoch + 1,
        batch: b.index + 1,
        batchesPerEpoch: loader.batchesPerEpoch,
        step,
        lr,
        loss: totals.lossSum / totals.seen,
        accuracy: totals.correct / totals.seen,
        imagesPerSecond: secs > 0 ? trained / secs : 0,
        batchSize: b.size,
        batchLoss: r.loss,
        batchCorrect: r.correct,
      });
      if (opts.stopAtStep !== undefined && step >= opts.stopAtStep && loader.epochInProgress) {
        await save();
        return { epochs: history, step, epoch, stopped: true, norm };
      }
      if (opts.save?.everySteps && step % opts.save.everySteps === 0 && loader.epochInProgress) await save();
      await yieldToEventLoop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const e0 = performance.now();
    const test = await evaluate(model, evalLoader);
    const after = executor.stats();
    epoch++;
    const m: EpochMetrics = {
      epoch,
      loss: totals.lossSum / totals.seen,
      trainAccuracy: totals.correct / totals.seen,
      testAccuracy: test.accuracy,
      testLoss: test.loss,
      imagesPerSecond: seconds > 0 ? trained / seconds : 0,
      seconds,
      evalSeconds: (performance.now() - e0) / 1000,
      overflows: after.overflows - before.overflows,
      ops: after.ops - before.ops,
      mode: executor.mode,
      lr,
      step,
    };
    history.push(m);
    await save();
    await opts.onEpoch?.(m);
    if (opts.stopAtStep !== undefined && step >= opts.stopAtStep) return { epochs: history, step, epoch, stopped: epoch < opts.epochs, norm };
  }
  return { epochs: history, step, epoch, stopped: false, norm };
}

/** A checkpoint only resumes the run it came from: same model, data, batch size and mode. */
function checkResumable(c: Checkpoint, o: TrainOptions): void {
  const i = c.info;
  const want: [string, unknown, unknown][] = [
    ['model', i.model, o.describe.model],
    ['data', i.data, o.describe.data],
    ['mode', i.mode, o.describe.mode],
    ['batch size', i.batchSize, o.batchSize],
    ['seed', i.seed, o.seed],
  ];
  for (const [what, saved, now] of want) {
    if (saved !== now) throw new Error(`cannot resume: the checkpoint's ${what} is ${JSON.stringify(saved)}, this run's is ${JSON.stringify(now)}`);
  }
  for (const k of new Set([...Object.keys(i.hyper), ...Object.keys(o.describe.hyper)])) {
    if (i.hyper[k] !== o.describe.hyper[k]) {
      throw new Error(`cannot resume: the checkpoint's ${k} is ${JSON.stringify(i.hyper[k])}, this run's is ${JSON.stringify(o.describe.hyper[k])}`);
    }
  }
  if (i.epoch >= o.epochs) throw new Error(`cannot resume: the checkpoint already completed ${i.epoch} of ${o.epochs} epochs (raise --epochs)`);
}

/**
 * Lets timers and signal handlers run between steps: with an executor whose products complete
 * synchronously (plain, quantized) every await resolves as a microtask, and Ctrl-C would go unnoticed
 * until the run ends. Costs a few microseconds per step.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
