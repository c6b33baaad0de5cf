/**
 * A model for inference from the bytes of a Goten checkpoint or of an ONNX model (told apart by the ONNX
 * header), for `goten serve` and prediction. Here rather than in nn/inference.ts because reading ONNX is this
 * folder's job and sits above nn.
 */
import { createHash } from 'node:crypto';
import { decodeCheckpoint } from '../nn/checkpoint.js';
import type { LinearExecutor } from '../nn/executor.js';
import { type InferenceModel, inferenceModel } from '../nn/inference.js';
import { importOnnxBytes, looksLikeOnnx } from './import.js';

/**
 * Decodes checkpoint bytes — or an ONNX model's, imported (src/onnx) — and builds its model on `executor`
 * (weights, BN statistics restored). The digest is of the bytes given, so an ONNX model is attested as the
 * file its owner has.
 */
export function inferenceModelFromBytes(bytes: Uint8Array, executor: LinearExecutor, what = 'checkpoint'): InferenceModel {
  const digest = createHash('sha256').update(bytes).digest('hex');
  const ckpt = looksLikeOnnx(bytes.subarray(0, 16)) ? importOnnxBytes(bytes, what).checkpoint : decodeCheckpoint(bytes, what);
  return inferenceModel(ckpt, executor, digest, what);
}

