/**
 * Runs an ONNX model with onnxruntime (CPU) on a data set's test images scaled to [0, 1] — the input
 * convention of exported models — and returns the arg-max classes. Used by the tests and by
 * scripts/onnx-agreement.ts to compare against `goten predict`. onnxruntime-node is a devDependency:
 * this module is never imported by the goten command itself.
 */
import ort from 'onnxruntime-node';
import type { Split } from '../src/data/dataset.js';

/** The first `limit` images of a split as float32 values scaled to [0, 1] (bytes × 1/255). */
export function scaledImages(split: Split, limit = split.count): Float32Array {
  const n = Math.min(limit, split.count);
  const per = split.shape[0] * split.shape[1] * split.shape[2];
  return Float32Array.from(split.images.subarray(0, n * per), (v) => v * split.scale);
}

export interface OrtResult {
  classes: number[];
  logits: Float32Array;
}

export async function ortClasses(modelPath: string | Uint8Array, x: Float32Array, shape: readonly number[], batch = 256): Promise<OrtResult> {
  const session = typeof modelPath === 'string' ? await ort.InferenceSession.create(modelPath) : await ort.InferenceSession.create(modelPath);
  const per = shape[0] * shape[1] * shape[2];
  const count = x.length / per;
  const classes: number[] = [];
  const parts: Float32Array[] = [];
  try {
    for (let s = 0; s < count; s += batch) {
      const b = Math.min(batch, count - s);
      const input = new ort.Tensor('float32', x.subarray(s * per, (s + b) * per), [b, ...shape]);
      const out = await session.run({ [session.inputNames[0]]: input });
      const logits = out[session.outputNames[0]].data as Float32Array;
      const k = logits.length / b;
      parts.push(logits.slice());
      for (let i = 0; i < b; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
        classes.push(best);
      }
    }
  } finally {
    await session.release();
  }
  const logits = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (logits.set(p, o), (o += p.length));
  return { classes, logits };
}
