/**
 * The trainer with sealed parameters (managed memory): the optimizer update runs inside backward, and
 * checkpoints are captured/restored with the parameters and optimizer state unsealed for the moment. A run
 * must be bit-identical to the unmanaged one, and a checkpoint saved in either mode must resume in the
 * other (or the same) mode to exactly the uninterrupted run's continuation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import { ManagedMemory } from '../../src/nn/memory/index.js';
import type { SequentialModel } from '../../src/nn/model.js';
import { buildModel, type ModelConfig } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { train } from '../../src/nn/trainer.js';
import { makeExecutor, type Mode, opts, strip } from './resume-rig.js';

const tiny: ModelConfig = {
  name: 'tiny',
  layers: [
    { type: 'conv', out: 4, kernel: 3, pad: 1 },
    { type: 'bn' },
    { type: 'relu' },
    { type: 'maxpool', kernel: 2 },
    { type: 'residual', body: [{ type: 'conv', out: 4, kernel: 3, pad: 1 }, { type: 'bn' }] },
    { type: 'flatten' },
    { type: 'dropout', p: 0.2 },
    { type: 'linear', out: 'classes' },
  ],
};
function setup(mode: Mode, sealed: boolean, modelSeed = 11) {
  const model = buildModel(tiny, { inputShape: [1, 8, 8], numClasses: 3, seed: modelSeed, executor: makeExecutor(mode) });
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
  const mem = sealed ? new ManagedMemory({ budgetBytes: 1, chunkBytes: 64 }) : null;
  if (mem) model.attachMemory(mem);
  return { model, optimizer, mem };
}

/** Parameters, BN buffers and momentum, as numbers (unsealed for the moment when sealed). */
async function state(s: ReturnType<typeof setup>): Promise<number[][]> {
  const read = (m: SequentialModel) => [
    ...m.parameters().map((p) => Array.from(p.value)),
    ...m.buffers().map((b) => Array.from(b.value)),
    ...Object.values(s.optimizer.getState().tensors).map((t) => Array.from(t)),
  ];
  return s.mem ? s.mem.withResidentState(() => read(s.model), { write: false }) : read(s.model);
}

for (const mode of ['plain', 'quantized'] as const) {
  test(`${mode}: sealed-parameter training equals unmanaged; checkpoints resume across modes bit-identically`, async () => {
    const ref = setup(mode, false);
    const full = await train(opts(mode, ref, {}));
    const refState = await state(ref);
    const sealedRun = setup(mode, true);
    const fullSealed = await train(opts(mode, sealedRun, {}));
    assert.deepEqual(fullSealed.epochs.map(strip), full.epochs.map(strip), 'epoch metrics (training and evaluation)');
    assert.deepEqual(await state(sealedRun), refState, 'final parameters, buffers and momentum');
    assert.equal(sealedRun.mem!.report().categories.parameters.current, 0, 'sealed at rest after the run');

    const dir = mkdtempSync(join(tmpdir(), 'goten-sealed-resume-'));
    const cases: [boolean, boolean, number][] = [[true, false, 9], [false, true, 6], [true, true, 3]];
    for (const [saveSealed, resumeSealed, stopAt] of cases) {
      const what = `${saveSealed ? 'sealed' : 'unmanaged'} → ${resumeSealed ? 'sealed' : 'unmanaged'} at step ${stopAt}`;
      const path = join(dir, `${mode}-${what.replace(/\W+/g, '-')}.safetensors`);
      const first = setup(mode, saveSealed);
      const r1 = await train(opts(mode, first, { stopAtStep: stopAt, save: { path } }));
      assert.equal(r1.step, stopAt);
      const second = setup(mode, resumeSealed, 999); // different initial weights: all restored from the file
      const r2 = await train(opts(mode, second, { resume: loadCheckpoint(path) }));
      assert.equal(r2.step, 12, what);
      assert.deepEqual(await state(second), refState, what);
      assert.deepEqual(strip(r2.epochs.at(-1)!), strip(full.epochs[1]), what);
    }
  });
}
