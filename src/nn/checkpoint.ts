/**
 * Training checkpoints in the safetensors container (checkpoint-format.ts).
 *
 * Tensors: `param.<name>` and `buffer.<name>` (float32, the model's own
 * names), and `optim.<path>` for every typed array inside the optimizer's
 * getState() value. Metadata (all strings): `format` = goten-checkpoint,
 * `version`, `info` (JSON: model spec, data spec, mode, seed, epoch, step,
 * hyper-parameters, normalisation), `optimizer` (the optimizer state as JSON
 * with its typed arrays replaced by tensor references), `rng` (model Rng and
 * data-loader states) and optionally `executor` (an executor's own state).
 *
 * Everything a resumed run needs to take exactly the step an uninterrupted run
 * would take next is in here: weights, BN running statistics, momentum, the
 * step counter (for the LR schedule), and every RNG state.
 */
import type { Sealer } from '../tee/seal.js';
import { looksSealed, openCheckpointBytes, sealCheckpointBytes } from './checkpoint-seal.js';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { LoaderState } from '../data/loader.js';
import type { ChannelStats } from '../data/normalize.js';
import { removeAtExit, tempPathFor } from './temp-files.js';
import { decodeSafetensors, dtypeOf, encodeSafetensors, type StoredTensor, type TensorData } from './checkpoint-format.js';
import type { ModelBuffer, Parameter } from './layers/layer.js';

export const CHECKPOINT_FORMAT = 'goten-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Run description stored with the weights. */
export interface CheckpointInfo {
  /** Model name (`mnist-cnn`) or a JSON model config. */
  model: string;
  /** Data spec (`mnist`, `synthetic:1x8x8:4`, …). */
  data: string;
  mode: string;
  seed: number;
  /** Epochs fully completed. */
  epoch: number;
  /** Optimizer steps taken in total. */
  step: number;
  /** The run's planned total epochs (cosine schedules span it). */
  epochs?: number;
  batchSize: number;
  /** Optimizer, schedule and data options as given (compared on resume). */
  hyper: Record<string, string | number | boolean | null>;
  norm: ChannelStats;
  numClasses: number;
  inputShape: number[];
  /** Running metric sums of an epoch interrupted mid-way (null at epoch boundaries). */
  partial?: { lossSum: number; correct: number; seen: number } | null;
}

export interface Checkpoint {
  info: CheckpointInfo;
  params: Map<string, StoredTensor>;
  buffers: Map<string, StoredTensor>;
  /** The optimizer's getState() value, typed arrays restored. */
  optimizer: unknown;
  rng: { model: number[]; loader: LoaderState };
  /** An executor's getState() value, when it has one. */
  executor?: unknown;
}

/** Anything exposing parameters/buffers/rng (a Model). */
export interface CheckpointableModel {
  parameters(): Parameter[];
  buffers(): ModelBuffer[];
  readonly rng: { getState(): number[]; setState(s: readonly number[]): void };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isTyped(v: unknown): v is TensorData {
  return v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint32Array || v instanceof Uint8Array;
}

/** JSON form of a state tree; typed arrays go to `tensors` under `<prefix>.<path>`. */
function pack(v: unknown, path: string, tensors: Map<string, StoredTensor>): Json {
  if (isTyped(v)) {
    tensors.set(path, { dtype: dtypeOf(v), shape: [v.length], data: v.slice() });
    return { $tensor: path };
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (v === undefined) return { $undefined: true };
  if (Array.isArray(v)) return v.map((x, i) => pack(x, `${path}.${i}`, tensors));
  if (v instanceof Map) return { $map: [...v].map(([k, x], i) => [pack(k, `${path}.k${i}`, tensors), pack(x, `${path}.v${i}`, tensors)]) };
  if (typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) out[k] = pack(x, `${path}.${k}`, tensors);
    return out;
  }
  throw new Error(`cannot store a ${typeof v} in a checkpoint (at ${path})`);
}

function unpack(v: Json, tensors: ReadonlyMap<string, StoredTensor>, what: string): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => unpack(x, tensors, what));
  if (typeof v.$tensor === 'string') {
    const t = tensors.get(v.$tensor);
    if (!t) throw new Error(`${what}: missing tensor ${v.$tensor}`);
    return t.data;
  }
  if (typeof v.$number === 'string') return Number(v.$number);
  if (v.$undefined === true) return undefined;
  if (Array.isArray(v.$map)) return new Map((v.$map as Json[][]).map(([k, x]) => [unpack(k, tensors, what), unpack(x, tensors, what)]));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = unpack(x, tensors, what);
  return out;
}

/** Copies a model's state (and the given optimizer/loader/executor states) into a Checkpoint. */
export function captureCheckpoint(
  model: CheckpointableModel,
  info: CheckpointInfo,
  optimizer: unknown,
  loader: LoaderState,
  executor?: unknown,
): Checkpoint {
  const params = new Map<string, StoredTensor>();
  for (const p of model.parameters()) params.set(p.name, { dtype: 'F32', shape: [...p.shape], data: p.value.slice() });
  const buffers = new Map<string, StoredTensor>();
  for (const b of model.buffers()) buffers.set(b.name, { dtype: 'F32', shape: [...b.shape], data: b.value.slice() });
  return { info: structuredClone(info), params, buffers, optimizer, rng: { model: model.rng.getState(), loader }, executor };
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors = new Map<string, StoredTensor>();
  for (const [n, t] of c.params) tensors.set(`param.${n}`, t);
  for (const [n, t] of c.buffers) tensors.set(`buffer.${n}`, t);
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    info: JSON.stringify(c.info),
    optimizer: JSON.stringify(pack(c.optimizer, 'optim', tensors)),
    rng: JSON.stringify(c.rng),
  };
  if (c.executor !== undefined) metadata.executor = JSON.stringify(pack(c.executor, 'executor', tensors));
  return encodeSafetensors(tensors, metadata);
}

export function decodeCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${name}: not a goten checkpoint (format ${JSON.stringify(metadata.format)})`);
  if (metadata.version !== String(CHECKPOINT_VERSION)) {
    throw new Error(`${name}: checkpoint version ${metadata.version} is not supported (expected ${CHECKPOINT_VERSION})`);
  }
  const json = (key: string): Json => {
    if (metadata[key] === undefined) throw new Error(`${name}: checkpoint metadata lacks '${key}'`);
    try {
      return JSON.parse(metadata[key]) as Json;
    } catch {
      throw new Error(`${name}: checkpoint metadata '${key}' is not valid JSON`);
    }
  };
  const info = json('info') as unknown as CheckpointInfo;
  for (const k of ['model', 'data', 'mode'] as const) {
    if (typeof info?.[k] !== 'string') throw new Error(`${name}: checkpoint info lacks '${k}'`);
  }
  for (const k of ['seed', 'epoch', 'step', 'batchSize'] as const) {
    if (!Number.isSafeInteger(info[k])) throw new Error(`${name}: checkpoint info has a bad '${k}'`);
  }
  const rng = json('rng') as unknown as Checkpoint['rng'];
  if (!Array.isArray(rng?.model) || typeof rng.loader !== 'object' || rng.loader === null) throw new Error(`${name}: checkpoint RNG state is malformed`);
  const params = new Map<string, StoredTensor>();
  const buffers = new Map<string, StoredTensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith('param.')) params.set(k.slice(6), t);
    else if (k.startsWith('buffer.')) buffers.set(k.slice(7), t);
  }
  const optimizer = unpack(json('optimizer'), tensors, name);
  const executor = metadata.executor === undefined ? undefined : unpack(json('executor'), tensors, name);
  return { info, params, buffers, optimizer, rng, executor };
}

/**
 * Writes atomically: a temporary file in the same directory, fsync, then rename over `path`.
 * With a sealer the file is sealed to the TEE (checkpoint-seal.ts).
 */
export function saveCheckpoint(path: string, c: Checkpoint, sealer?: Sealer): void {
  const plain = encodeCheckpoint(c);
  const bytes = sealer ? sealCheckpointBytes(sealer, plain, c.info.step) : plain;
  const tmp = tempPathFor(path);
  const forget = removeAtExit(tmp);
  try {
    // owner-only: a plaintext (--no-seal) checkpoint is the model itself
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    throw new Error(`cannot write checkpoint ${path}: ${(err as Error).message}`);
  } finally {
    forget(); // renamed into place, or removed
  }
}

/** Reads a checkpoint; a sealed one needs the sealer of the TEE that wrote it. */
export function loadCheckpoint(path: string, sealer?: Sealer): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read checkpoint ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (looksSealed(bytes)) {
    if (!sealer) throw new Error(`${path} is a sealed checkpoint: open it inside the TEE that sealed it (--seal / --tee)`);
    bytes = openCheckpointBytes(sealer, bytes, path);
  }
  return decodeCheckpoint(bytes, path);
}

/** Copies weights, buffers and the model Rng state into `model`; every name and shape must match. */
export function restoreModel(model: CheckpointableModel, c: Checkpoint, name = 'checkpoint'): void {
  const fill = (kind: string, dst: { name: string; shape: number[]; value: Float32Array }[], src: Map<string, StoredTensor>) => {
    const want = new Set(dst.map((d) => d.name));
    const extra = [...src.keys()].filter((k) => !want.has(k));
    if (extra.length > 0) throw new Error(`${name}: ${kind} ${extra.slice(0, 3).join(', ')} not in the model (different model?)`);
    for (const d of dst) {
      const t = src.get(d.name);
      if (!t) throw new Error(`${name}: ${kind} ${d.name} is missing (different model?)`);
      if (t.dtype !== 'F32' || t.shape.join() !== d.shape.join()) {
        throw new Error(`${name}: ${kind} ${d.name} has shape [${t.shape.join(',')}] ${t.dtype}, the model needs [${d.shape.join(',')}] F32`);
      }
    }
    for (const d of dst) d.value.set(src.get(d.name)!.data as Float32Array);
  };
  fill('parameter', model.parameters(), c.params);
  fill('buffer', model.buffers(), c.buffers);
  model.rng.setState(c.rng.model);
}
