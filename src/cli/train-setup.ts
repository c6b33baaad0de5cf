/**
 * `goten train` option handling: parsing and validating flags, defaults,
 * taking unspecified options from a checkpoint on --resume, and building the
 * optimizer and LR schedule. Kept apart from the command so the command file
 * is only wiring and output.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TeeKind } from '../tee/provider.js';
import type { Checkpoint } from '../nn/checkpoint.js';
import type { Parameter } from '../nn/layers/layer.js';
import { Adam, type Optimizer, SGD } from '../nn/optim.js';
import { type LrSchedule, parseSchedule, parseWarmup, withWarmup } from '../nn/schedule.js';
import type { MemoryFlags } from './memory-setup.js';

/** Flags as commander hands them over (strings where a parser was not attached). */
export interface TrainFlags extends MemoryFlags {
  model: string;
  data: string;
  mode: string;
  epochs: number;
  batch: number;
  seed: number;
  lr?: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  schedule: string;
  /** Linear warm-up (`0`, `<epochs>`, `<n>steps`); added to the schedule. Absent: none. */
  warmup?: string;
  /** false: no divergence guard (`--no-guard`). */
  guard?: boolean;
  optimizer: string;
  backend: string;
  limitTrain?: number;
  limitTest?: number;
  augment?: boolean;
  evalBatch?: number;
  json: boolean;
  save?: string;
  saveEvery?: number;
  resume?: string;
  topology: string;
  /** Secure mode: 'lean' (default) or 'goten' (the paper's protocol). */
  protocol?: string;
  /** A choice string ('2' | '3') from commander. */
  workers: string;
  /** Secure mode: cluster config to join (else local worker processes are started). */
  cluster?: string;
  /** Secure mode: this enclave replica. */
  party?: 'e0' | 'e1';
  /** Secure mode, local cluster: tls or tcp between the processes. */
  transport?: 'tls' | 'tcp';
  /** Secure mode: seconds to wait for a worker's answer to one op. */
  opTimeout?: number;
  /** Seal checkpoints to the TEE (undefined: only in secure mode). */
  seal?: boolean;
  /** TEE provider for sealing. */
  tee?: TeeKind;
}

/** Options that define the run and must match on resume (stored in the checkpoint's `hyper`). */
export type Hyper = Record<string, string | number | boolean | null>;

export function intOption(name: string, min = 1): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

/** A TCP port number, 0 (any free port) to 65535. */
export function portOption(name: string): (v: string) => number {
  const int = intOption(name, 0);
  return (v) => {
    const n = int(v);
    if (n > 65535) throw new Error(`${name} must be a TCP port, 0 to 65535, got '${v}'`);
    return n;
  };
}

export function numOption(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got '${v}'`);
    return n;
  };
}

/** `--model`: a built-in name, or a JSON config file (stored as compact JSON text). */
export function resolveModelSpec(arg: string): string {
  const t = arg.trim();
  if (t.startsWith('{')) return JSON.stringify(parseJson(t, 'the --model JSON'));
  if (t.endsWith('.json') || (t.includes('/') && existsSync(t))) {
    let text: string;
    try {
      text = readFileSync(t, 'utf8');
    } catch (err) {
      throw new Error(`cannot read model config ${t}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return JSON.stringify(parseJson(text, `model config ${t}`));
  }
  return t;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Display name of a model spec (the JSON config's name). */
export function modelLabel(spec: string): string {
  if (!spec.startsWith('{')) return spec;
  const name = (JSON.parse(spec) as { name?: unknown }).name;
  return typeof name === 'string' ? name : 'custom model';
}

/** `--schedule`: none|constant, step (÷10 every ⌈epochs/3⌉ epochs), cosine, or any spec parseSchedule takes. */
export function scheduleSpec(s: string, epochs: number): string {
  if (s === 'none') return 'constant';
  if (s === 'step') return `step:${Math.max(1, Math.ceil(epochs / 3))}:0.1`;
  return s;
}

export function defaultLr(optimizer: string): number {
  return optimizer === 'adam' ? 0.001 : 0.05;
}

export function hyperOf(f: TrainFlags): Hyper {
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

/**
 * On --resume, every option the user did not give on the command line comes
 * from the checkpoint, so `goten train --resume ck --epochs 5` just continues.
 */
export function applyCheckpointDefaults<F extends Partial<TrainFlags>>(f: F, c: Checkpoint, given: (key: string) => boolean): F {
  const out: F = { ...f };
  const take = <K extends keyof F>(k: K, v: F[K]) => {
    if (!given(String(k))) out[k] = v;
  };
  take('model', c.info.model);
  take('data', c.info.data);
  take('mode', c.info.mode);
  take('batch', c.info.batchSize);
  take('seed', c.info.seed);
  // the run's planned total: without it a resumed run would stop at the --epochs default and span its schedule over that
  if (typeof c.info.epochs === 'number') take('epochs', c.info.epochs);
  const h = c.info.hyper;
  if (typeof h.optimizer === 'string') take('optimizer', h.optimizer);
  if (typeof h.lr === 'number') take('lr', h.lr);
  if (typeof h.momentum === 'number') take('momentum', h.momentum);
  if (typeof h.nesterov === 'boolean') take('nesterov', h.nesterov);
  if (typeof h.weightDecay === 'number') take('weightDecay', h.weightDecay);
  if (typeof h.schedule === 'string') take('schedule', h.schedule);
  take('warmup', typeof h.warmup === 'string' ? h.warmup : '0'); // runs before warm-ups existed had none
  take('limitTrain', typeof h.limitTrain === 'number' ? h.limitTrain : undefined);
  take('limitTest', typeof h.limitTest === 'number' ? h.limitTest : undefined);
  take('augment', typeof h.augment === 'boolean' ? h.augment : undefined);
  return out;
}

export function buildOptimizer(f: TrainFlags, params: Parameter[]): Optimizer {
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

export function buildSchedule(f: TrainFlags): LrSchedule {
  const spec = withWarmup(scheduleSpec(f.schedule, f.epochs), parseWarmup(f.warmup ?? '0'));
  return parseSchedule(spec, f.lr ?? defaultLr(f.optimizer), f.epochs);
}
