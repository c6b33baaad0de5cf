/**
 * Issue 3's "done when": vgg11 and resnet18 run full training steps (forward,
 * loss, backward, SGD update) on CIFAR-shaped synthetic data at batch 32, in
 * plain and in quantized mode, on the native backend.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getBackend } from '../../src/backend/index.js';
import { loadDataset } from '../../src/data/spec.js';
import { BatchLoader, channelStats } from '../../src/data/index.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';
import { buildModel } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';

const backend = getBackend(process.env.GOTEN_ALLOW_NO_NATIVE ? 'auto' : 'native');
const data = loadDataset('synthetic:3x32x32:10', { limitTrain: 32, limitTest: 8, seed: 3 });

async function oneStep(name: string, executor: LinearExecutor): Promise<void> {
  const model = buildModel(name, { inputShape: [3, 32, 32], numClasses: 10, seed: 1, executor });
  const loader = new BatchLoader(data.train, { batchSize: 32, shuffle: true, seed: 1, norm: channelStats(data.train), augment: true });
  loader.beginEpoch();
  const batch = loader.next();
  assert.ok(batch && batch.size === 32);
  const before = model.parameters().map((p) => p.value.slice());
  const logits = await model.forward(batch.x, true);
  assert.deepEqual([...logits.shape], [32, 10]);
  const { loss, grad } = softmaxCrossEntropy(logits, batch.labels);
  assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
  model.zeroGrad();
  await model.backward(grad);
  new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }).step();
  const params = model.parameters();
  const changed = params.filter((p, i) => p.value.some((v, j) => v !== before[i][j])).length;
  assert.equal(changed, params.length, 'every parameter was updated');
  for (const p of params) assert.ok(p.value.every(Number.isFinite), `${p.name} stays finite`);
  if (executor.mode === 'quantized') assert.equal(executor.stats().overflows, 0, 'no wrap-around at initialisation');
}

describe('CIFAR-shaped training steps at batch 32', () => {
  for (const name of ['vgg11', 'resnet18']) {
    it(`${name}, plain`, () => oneStep(name, new PlainExecutor(backend)));
    it(`${name}, quantized`, () => oneStep(name, new QuantizedExecutor({ backend, seed: 1 })));
  }
});
