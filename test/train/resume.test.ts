import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import type { Model } from '../../src/nn/model.js';
import { buildModel, type ModelConfig } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { train } from '../../src/nn/trainer.js';
import { makeExecutor, type Mode, opts, spec, strip } from './resume-rig.js';

/** conv-BN-ReLU-pool, dropout, FC: exercises weights, BN buffers, the model Rng and momentum. */
const tiny: ModelConfig = {
  name: 'tiny',
  layers: [
    { type: 'conv', out: 4, kernel: 3, pad: 1 },
    { type: 'bn' },
    { type: 'relu' },
    { type: 'maxpool', kernel: 2 },
    { type: 'flatten' },
    { type: 'dropout', p: 0.2 },
    { type: 'linear', out: 'classes' },
  ],
};
function setup(mode: Mode, modelSeed = 11) {
  const model = buildModel(tiny, { inputShape: [1, 8, 8], numClasses: 3, seed: modelSeed, executor: makeExecutor(mode) });
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  return { model, optimizer };
}

const state = (m: Model) => [...m.parameters().map((p) => Array.from(p.value)), ...m.buffers().map((b) => Array.from(b.value))];

for (const mode of ['plain', 'quantized'] as const) {
  test(`save/resume continues bit-identically (${mode}, at an epoch boundary and mid-epoch)`, async () => {
    const ref = setup(mode);
    const full = await train(opts(mode, ref, {}));
    assert.equal(full.step, 12);
    assert.ok(full.epochs[1].loss < full.epochs[0].loss + 0.5);
    const dir = mkdtempSync(join(tmpdir(), 'goten-resume-'));
    for (const stopAt of [6, 9]) {
      const path = join(dir, `${mode}-${stopAt}.safetensors`);
      const first = setup(mode);
      const r1 = await train(opts(mode, first, { stopAtStep: stopAt, save: { path } }));
      assert.equal(r1.step, stopAt);
      const ck = loadCheckpoint(path);
      assert.equal(ck.info.step, stopAt);
      assert.equal(ck.info.epoch, 1);
      assert.equal(ck.info.partial === null, stopAt === 6);
      // a fresh process: different initial weights, restored from the file
      const second = setup(mode, 999);
      const r2 = await train(opts(mode, second, { resume: ck }));
      assert.equal(r2.step, 12);
      assert.deepEqual(state(second.model), state(ref.model), `parameters after resume at step ${stopAt}`);
      assert.deepEqual(strip(r2.epochs.at(-1)!), strip(full.epochs[1]));
    }
  });
}

test('resume refuses a checkpoint from a different run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-resume-'));
  const path = join(dir, 'c.safetensors');
  await train(opts('plain', setup('plain'), { epochs: 1, save: { path } }));
  const ck = loadCheckpoint(path);
  await assert.rejects(train(opts('plain', setup('plain'), { resume: ck, batchSize: 4 })), /checkpoint's batch size is 8, this run's is 4/);
  await assert.rejects(train(opts('plain', setup('plain'), { resume: ck, epochs: 1 })), /already completed 1 of 1 epochs/);
  await assert.rejects(
    train(opts('plain', setup('plain'), { resume: ck, describe: { model: 'tiny', data: spec, mode: 'plain', hyper: { lr: 0.2 } } })),
    /checkpoint's lr is 0.1, this run's is 0.2/,
  );
});
