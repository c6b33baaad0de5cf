/**
 * trainStep is the one training-step sequence: the trainer's steps are exactly trainStep over the same
 * batches (same losses, same parameters), managed memory with sealed parameters needs no caller-side
 * choice about optimizer.step(), and no other module in src/ or bench/ sequences a step itself.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BatchLoader, channelStats, loadDataset } from '../../src/data/index.js';
import { ManagedMemory } from '../../src/nn/memory/index.js';
import { buildModel } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { trainStep } from '../../src/nn/train-step.js';
import { train } from '../../src/nn/trainer.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import { testBackend } from './helpers.js';
import { MEMORY_TEST_CONFIG } from './memory-model.js';

const backend = await testBackend();
const data = loadDataset('synthetic:3x8x8:4', { limitTrain: 32, limitTest: 8, seed: 5 });
const SEED = 11;
const BATCH = 8;
const STEPS = 3;

function setup(mem: ManagedMemory | null) {
  const model = buildModel(MEMORY_TEST_CONFIG, { inputShape: [3, 8, 8], numClasses: 4, seed: 7, executor: new QuantizedExecutor({ backend, seed: 3 }) });
  if (mem) model.attachMemory(mem);
  return { model, optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }) };
}

const bytes = (m: { parameters(): { value: Float32Array }[] }) => m.parameters().map((p) => Buffer.from(p.value.slice().buffer));

describe('trainStep: the one training step', () => {
  it('the trainer runs exactly trainStep: the same losses and parameters as a trainStep loop over the same batches', async () => {
    const t = setup(null);
    const fromTrainer: number[] = [];
    await train({
      ...t,
      data,
      epochs: 1,
      batchSize: BATCH,
      seed: SEED,
      augment: false,
      stopAtStep: STEPS,
      describe: { model: 'memory-test', data: 'synthetic', mode: 'quantized', hyper: {} },
      onStep: (p) => void fromTrainer.push(p.batchLoss),
    });
    const s = setup(null);
    const loader = new BatchLoader(data.train, { batchSize: BATCH, shuffle: true, seed: SEED, norm: channelStats(data.train), augment: false });
    loader.beginEpoch();
    const fromLoop: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const b = loader.next()!;
      fromLoop.push((await trainStep(s.model, s.optimizer, b.x, b.labels)).loss);
    }
    assert.deepEqual(fromLoop, fromTrainer);
    assert.deepEqual(bytes(s.model), bytes(t.model));
  });

  it('with sealed parameters the update runs inside backward, and the caller writes the same loop', async () => {
    const loop = async (mem: ManagedMemory | null) => {
      const s = setup(mem);
      const loader = new BatchLoader(data.train, { batchSize: BATCH, shuffle: false, seed: SEED, norm: channelStats(data.train) });
      loader.beginEpoch();
      const losses: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        const b = loader.next()!;
        losses.push((await trainStep(s.model, s.optimizer, b.x, b.labels, { lr: 0.05 / (i + 1) })).loss);
      }
      return { losses, params: mem ? await mem.withResidentState(() => bytes(s.model), { write: false }) : bytes(s.model) };
    };
    const mem = new ManagedMemory();
    const ref = await loop(null);
    const got = await loop(mem);
    assert.ok(mem.fusesOptimizer, 'trainStep attached the optimizer to the sealed parameters');
    assert.deepEqual(got.losses, ref.losses);
    assert.deepEqual(got.params, ref.params);
  });

  it('no other module in src/ or bench/ runs a backward or an optimizer update itself', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((n) => {
        const p = join(d, n);
        return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
      });
    const code = (f: string) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l))
        .join('\n');
    const offenders: string[] = [];
    for (const f of [...walk(join(root, 'src')), ...walk(join(root, 'bench'))]) {
      const rel = relative(root, f);
      if (rel === join('src', 'nn', 'train-step.ts') || rel === join('src', 'nn', 'optim.ts')) continue;
      const c = code(f);
      // an optimizer update outside trainStep is a step sequence of its own
      if (/\b(opt|optimizer)\.step\(\)/.test(c)) offenders.push(rel);
    }
    assert.deepEqual(offenders, []);
  });
});
