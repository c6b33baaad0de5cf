/**
 * `goten train` option handling: parsing and validating flags, defaults, and
 * taking unspecified options from a checkpoint on --resume. The run's training
 * configuration and what is built from it (optimizer, LR schedule) are
 * nn/train-config.ts. Kept apart from the command so the command file is only
 * wiring and output.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TeeKind } from '../tee/provider.js';
import type { Checkpoint } from '../nn/checkpoint.js';
import type { TrainConfig } from '../nn/train-config.js';
import type { MemoryFlags } from './memory-setup.js';

/** Flags as commander hands them over (strings where a parser was not attached); the training configuration is nn's. */
export interface TrainFlags extends MemoryFlags, TrainConfig {
  model: string;
  data: string;
  mode: string;
  batch: number;
  seed: number;
  /** false: no divergence guard (`--no-guard`). */
  guard?: boolean;
  backend: string;
  evalBatch?: number;
  json: boolean;
  save?: string;
  saveEvery?: number;
  resume?: string;
  topology: string;
  /** Secure mode: 'lean' (default) or 'goten' (the paper's protocol). */
  protocol?: string;
  /** Secure mode: verified products, 'all' | 'sample' | 'off'. */
  verify?: string;
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
  /** Secure mode: seconds to wait for a lost worker to come back (0: no recovery). */
  reconnectTimeout?: number;
  /** --local-below: ops smaller than this stay in the enclave. */
  localBelow?: number;
  /** Seal checkpoints to the TEE (undefined: only in secure mode). */
  seal?: boolean;
  /** TEE provider for sealing. */
  tee?: TeeKind;
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
