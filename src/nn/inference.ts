/**
 * Inference with a trained checkpoint: the forward pass in inference mode (BatchNorm running statistics,
 * no dropout) through any LinearExecutor — plain float32, the quantized reference, or the secure Goten
 * protocol — shared by `goten predict`, `goten serve` and ONNX export. Reading a model from bytes that may
 * be ONNX is onnx/model-bytes.ts (ONNX import sits above nn).
 *
 * Inputs are values in the data set's natural float range (pixel bytes already multiplied by the split's
 * scale, i.e. [0, 1] for images); the model's per-channel normalisation (mean/std measured on the training
 * split and stored in the checkpoint) is applied here, inside the enclave, exactly as the training loader did.
 * Scores are softmax probabilities; the class is the first arg-max (as in training accuracy).
 */
import type { ChannelStats } from '../data/normalize.js';
import { validateStats } from '../data/normalize.js';
import { type Checkpoint, restoreModel } from './checkpoint.js';
import type { LinearExecutor } from './executor.js';
import type { SequentialModel } from './model.js';
import { buildModel } from './models/index.js';
import { Tensor } from '../tensor/tensor.js';

export interface InferenceModel {
  readonly model: SequentialModel;
  readonly norm: ChannelStats;
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** SHA-256 (hex) of the checkpoint bytes: which model answers (attested in the service config). */
  readonly digest: string;
  /** Display name (the config's name or the built-in model name). */
  readonly name: string;
  /** The checkpoint's data spec (default data for `goten predict`). */
  readonly data: string;
  readonly seed: number;
}

export function inferenceModel(c: Checkpoint, executor: LinearExecutor, digest: string, what = 'checkpoint'): InferenceModel {
  const s = c.info.inputShape;
  if (!Array.isArray(s) || s.length !== 3 || !s.every((v) => Number.isSafeInteger(v) && v >= 1)) {
    throw new Error(`${what}: checkpoint info has no valid inputShape [C,H,W]`);
  }
  if (!Number.isSafeInteger(c.info.numClasses) || c.info.numClasses < 1) throw new Error(`${what}: checkpoint info has no valid numClasses`);
  const inputShape: [number, number, number] = [s[0], s[1], s[2]];
  const norm = validateStats(c.info.norm, inputShape[0]);
  const model = buildModel(c.info.model, { inputShape, numClasses: c.info.numClasses, seed: c.info.seed, executor });
  restoreModel(model, c, what);
  return { model, norm, inputShape, numClasses: c.info.numClasses, digest, name: model.name, data: c.info.data, seed: c.info.seed };
}

/** Values per input (C·H·W). */
export function inputSize(m: Pick<InferenceModel, 'inputShape'>): number {
  return m.inputShape[0] * m.inputShape[1] * m.inputShape[2];
}

/** x' = (v − mean_c) / std_c for `count` inputs; refuses non-finite values (they would poison quantization). */
export function normalizeInputs(m: InferenceModel, values: Float32Array, count: number, out = new Float32Array(values.length)): Float32Array {
  const [C, H, W] = m.inputShape;
  const hw = H * W;
  if (values.length !== count * C * hw) throw new RangeError(`expected ${count} × ${C * hw} values, got ${values.length}`);
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < C; c++) {
      const inv = 1 / m.norm.std[c];
      const mean = m.norm.mean[c];
      const base = (n * C + c) * hw;
      for (let i = 0; i < hw; i++) {
        const v = values[base + i];
        if (!Number.isFinite(v)) throw new RangeError(`input ${n} has a non-finite value`);
        out[base + i] = (v - mean) * inv;
      }
    }
  }
  return out;
}

/**
 * Logits [count, K] for already-normalised inputs (a copy: the model owns and reuses its output buffer).
 * Not re-entrant: callers serialise forward passes (the service's batcher does).
 */
export async function forwardLogits(m: InferenceModel, normalized: Float32Array, count: number): Promise<Float32Array> {
  const [C, H, W] = m.inputShape;
  const logits = await m.model.forward(new Tensor([count, C, H, W], normalized), false);
  return logits.data.slice(0, count * m.numClasses);
}

/** Row-wise arg-max (first maximum on ties). */
export function argmaxRows(logits: Float32Array, rows: number, k: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[r * k + j] > logits[r * k + best]) best = j;
    out[r] = best;
  }
  return out;
}

/** Row-wise softmax (float64 accumulation), in place. */
export function softmaxRows(logits: Float32Array, rows: number, k: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[o + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[o + j] - max);
    for (let j = 0; j < k; j++) logits[o + j] = Math.exp(logits[o + j] - max) / sum;
  }
  return logits;
}
