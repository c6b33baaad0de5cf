/**
 * One training step, the only place that sequences it (the trainer, the benchmarks and the tests all
 * call this):
 *
 *   forward (training) → softmax cross-entropy → zero gradients → backward → optimizer update
 *   → the executor's end of step
 *
 * What callers used to have to know is decided here: with managed memory and sealed parameters the
 * optimizer's update runs inside backward, per layer (ManagedMemory.attachOptimizer, attached on the
 * first step if the caller has not), so `optimizer.step()` must not run again; the learning rate is set
 * before backward for the same reason. The end of step lets the secure executor compare replica digests
 * and plan offline masks.
 */
import type { Tensor } from '../tensor/tensor.js';
import { softmaxCrossEntropy } from './loss.js';
import type { Model } from './model.js';
import type { Optimizer } from './optim.js';

/** The points of a step, in order, at which `onPhase` is told that one has finished. */
export type StepPhase = 'forward' | 'loss' | 'backward' | 'update' | 'end';

export interface TrainStepOptions {
  /** Learning rate for this step (default: the optimizer's current one). */
  lr?: number;
  /** Where ∂L/∂logits is written ([B·classes], reused across steps); default a fresh array. */
  grad?: Float32Array;
  /** Sees the loss before any gradient or update exists; throwing ends the step there (divergence guard). */
  check?(loss: number): void;
  /**
   * Whether to end the executor's step (default true). A benchmark that runs the offline phase itself,
   * outside the timed steps, passes false.
   */
  endStep?: boolean;
  /** Called after each phase (benchmarks time the loss and the update apart from the layers; memory runs sample RSS). */
  onPhase?(phase: StepPhase): void;
}

export interface StepOutcome {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Samples whose arg-max logit is the label. */
  correct: number;
}

export async function trainStep(model: Model, optimizer: Optimizer, x: Tensor, labels: ArrayLike<number>, o: TrainStepOptions = {}): Promise<StepOutcome> {
  const mem = model.memory();
  if (mem?.sealsParameters && !mem.fusesOptimizer) mem.attachOptimizer(optimizer);
  const phase = o.onPhase ?? (() => {});
  const logits = await model.forward(x, true);
  phase('forward');
  const r = softmaxCrossEntropy(logits, labels, o.grad);
  o.check?.(r.loss);
  model.zeroGrad();
  if (o.lr !== undefined) optimizer.lr = o.lr; // before backward: with sealed parameters the update runs inside it
  phase('loss');
  await model.backward(r.grad);
  phase('backward');
  if (!(mem?.fusesOptimizer ?? false)) optimizer.step();
  phase('update');
  if (o.endStep ?? true) await model.executor().endStep();
  phase('end');
  return { loss: r.loss, correct: r.correct };
}
