/**
 * A training run's configuration — optimizer, learning rate and schedule, the hyper-parameters a checkpoint
 * records — and the optimizer and schedule built from it. It lives in nn, next to the optimizers and
 * schedules, so that every caller (the `goten train` command, the enclave service's training job, a library
 * user) configures a run the same way without going through command-line flag types.
 */
import type { Parameter } from './layers/layer.js';
import { Adam, type Optimizer, SGD } from './optim.js';
import { type LrSchedule, parseSchedule, parseWarmup, withWarmup } from './schedule.js';

export interface TrainConfig {
  /** 'sgd' or 'adam' (a string, so that a bad name is reported by buildOptimizer with the choices). */
  optimizer: string;
  /** Base learning rate; absent: defaultLr(optimizer). */
  lr?: number;
  /** SGD momentum. */
  momentum: number;
  /** L2 weight decay. */
  weightDecay: number;
  /** SGD Nesterov momentum. */
  nesterov: boolean;
  /** none|constant, step, cosine, or any spec parseSchedule takes (see scheduleSpec). */
  schedule: string;
  /** Linear warm-up (`0`, `<epochs>`, `<n>steps`); added to the schedule. Absent: none. */
  warmup?: string;
  /** Total epochs the schedule spans. */
  epochs: number;
  /** Data options recorded with the run (a resumed run must use the same data). */
  limitTrain?: number;
  limitTest?: number;
  augment?: boolean;
}

/** Options that define the run and must match on resume (stored in the checkpoint's `hyper`). */
export type Hyper = Record<string, string | number | boolean | null>;

/** `--schedule`: none|constant, step (÷10 every ⌈epochs/3⌉ epochs), cosine, or any spec parseSchedule takes. */
export function scheduleSpec(s: string, epochs: number): string {
  if (s === 'none') return 'constant';
  if (s === 'step') return `step:${Math.max(1, Math.ceil(epochs / 3))}:0.1`;
  return s;
}

export function defaultLr(optimizer: string): number {
  return optimizer === 'adam' ? 0.001 : 0.05;
}

export function hyperOf(f: TrainConfig): Hyper {
  return {
    optimizer: f.optimizer,
    lr: f.lr ?? defaultLr(f.optimizer),
    momentum: f.optimizer === 'sgd' ? f.momentum : null,
    nesterov: f.optimizer === 'sgd' ? f.nesterov : null,
    weightDecay: f.weightDecay,
    schedule: f.schedule,
    // recorded only when used, so checkpoints of runs without one still resume
    ...(f.warmup !== undefined && parseWarmup(f.warmup) !== null ? { warmup: f.warmup } : {}),
    limitTrain: f.limitTrain ?? null,
    limitTest: f.limitTest ?? null,
    augment: f.augment ?? null,
  };
}

export function buildOptimizer(f: TrainConfig, params: Parameter[]): Optimizer {
  const lr = f.lr ?? defaultLr(f.optimizer);
  switch (f.optimizer) {
    case 'sgd':
      return new SGD(params, { lr, momentum: f.momentum, weightDecay: f.weightDecay, nesterov: f.nesterov });
    case 'adam':
      return new Adam(params, { lr, weightDecay: f.weightDecay });
    default:
      throw new Error(`unknown optimizer '${f.optimizer}' (expected sgd or adam)`);
  }
}

export function buildSchedule(f: TrainConfig): LrSchedule {
  const spec = withWarmup(scheduleSpec(f.schedule, f.epochs), parseWarmup(f.warmup ?? '0'));
  return parseSchedule(spec, f.lr ?? defaultLr(f.optimizer), f.epochs);
}
