/**
 * A run with a step warm-up that reaches into the second epoch, stopped inside the warm-up and
 * resumed from its checkpoint, takes the same rates and ends with the same weights, bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import type { Model } from '../../src/nn/model.js';
import { buildModel, type ModelConfig } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { parseSchedule } from '../../src/nn/schedule.js';
import { train } from '../../src/nn/trainer.js';
import { makeExecutor, opts } from './resume-rig.js';

const tiny: ModelConfig = {
  name: 'tiny',
  layers: [{ type: 'conv', out: 4, kernel: 3, pad: 1 }, { type: 'bn' }, { type: 'relu' }, { type: 'flatten' }, { type: 'linear', out: 'classes' }],
};
const setup = (seed = 11) => {
  const model = buildModel(tiny, { inputShape: [1, 8, 8], numClasses: 3, seed, executor: makeExecutor('plain') });
  return { model, optimizer: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }) };
};
// 6 steps per epoch: the warm-up ends on step 8, in the second epoch
const schedule = () => parseSchedule('cosine,warmup-steps:8', 0.1, 2);
const weights = (m: Model) => m.parameters().map((p) => Array.from(p.value));

test('resume inside a step warm-up (epoch 1 and epoch 2) is bit-identical, rates included', async () => {
  const ref = setup();
  const refLrs: number[] = [];
  await train(opts('plain', ref, { schedule: schedule(), onStep: (p) => void refLrs.push(p.lr) }));
  assert.equal(refLrs.length, 12, String(refLrs));
  assert.ok(Math.abs(refLrs[0] - 0.1 / 8) < 1e-12, `first rate ${refLrs[0]}`); // the warm-up is applied
  const cosine = (t: number) => (0.1 * (1 + Math.cos((Math.PI * t) / 2))) / 2;
  assert.ok(Math.abs(refLrs[6] - cosine(1) * (7 / 8)) < 1e-12, 'step 7: still warming up');
  assert.ok(Math.abs(refLrs[7] - cosine(1 + 1 / 6)) < 1e-12, 'step 8: the plain cosine');
  const dir = mkdtempSync(join(tmpdir(), 'goten-warmup-'));
  for (const stopAt of [3, 7]) {
    const path = join(dir, `w${stopAt}.safetensors`);
    const lrs: number[] = [];
    await train(opts('plain', setup(), { schedule: schedule(), stopAtStep: stopAt, save: { path }, onStep: (p) => void lrs.push(p.lr) }));
    const second = setup(999);
    await train(opts('plain', second, { schedule: schedule(), resume: loadCheckpoint(path), onStep: (p) => void lrs.push(p.lr) }));
    assert.deepEqual(lrs, refLrs, `rates, stopped at step ${stopAt}`);
    assert.deepEqual(weights(second.model), weights(ref.model), `weights, stopped at step ${stopAt}`);
  }
});
