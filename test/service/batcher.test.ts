/** The prediction batcher: whole queries per pass while they fit, big queries split, order kept, failures isolated. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PredictionBatcher } from '../../src/service/batcher.js';
import type { InferenceModel } from '../../src/nn/inference.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** A fake 1×1×2 → 2-class model: logits = [x0 + x1, x0 − x1]; records pass sizes; fails on a NaN input. */
function fakeModel(passes: number[]): InferenceModel {
  const model = {
    async forward(x: Tensor) {
      const n = x.shape[0];
      passes.push(n);
      if (x.data.some((v) => Number.isNaN(v))) throw new Error('boom');
      const out = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) [out[2 * i], out[2 * i + 1]] = [x.data[2 * i] + x.data[2 * i + 1], x.data[2 * i] - x.data[2 * i + 1]];
      return new Tensor([n, 2], out);
    },
  };
  return { model, inputShape: [1, 1, 2], numClasses: 2 } as unknown as InferenceModel;
}

const query = (n: number, base: number) => Float32Array.from({ length: 2 * n }, (_, i) => base + i);

it('batches whole queries up to maxBatch, splits only oversized ones, and answers each correctly', async () => {
  const passes: number[] = [];
  const m = fakeModel(passes);
  const b = new PredictionBatcher({ maxBatch: 4, maxQueuedInputs: 100 });
  const sizes = [1, 2, 3, 9, 1];
  const got = await Promise.all(sizes.map((n, q) => b.submit(m, query(n, 100 * q), n)));
  got.forEach((l, q) => {
    const x = query(sizes[q], 100 * q);
    for (let i = 0; i < sizes[q]; i++) assert.deepEqual([l[2 * i], l[2 * i + 1]], [x[2 * i] + x[2 * i + 1], x[2 * i] - x[2 * i + 1]]);
  });
  assert.deepEqual(passes, [3, 3, 4, 4, 2]); // [1,2] · [3] · [9 split 4,4,1 + the last 1]
  assert.ok(passes.every((n) => n <= 4));
});

it('a failing pass rejects only its queries; the queue limit answers 429', async () => {
  const passes: number[] = [];
  const m = fakeModel(passes);
  const b = new PredictionBatcher({ maxBatch: 2, maxQueuedInputs: 5 });
  const bad = query(2, 0);
  bad[0] = Number.NaN;
  const r = await Promise.allSettled([b.submit(m, bad, 2), b.submit(m, query(1, 7), 1), b.submit(m, query(4, 0), 4)]);
  assert.equal(r[0].status, 'rejected');
  assert.equal(r[1].status, 'fulfilled');
  assert.equal(r[2].status, 'rejected');
  assert.match(String((r[2] as PromiseRejectedResult).reason.message), /queue is full/);
});
