/**
 * Managed memory with sealed parameters (src/nn/memory/parameter-store.ts): parameters and optimizer state
 * live sealed in untrusted storage between uses, each leaf layer unseals its own parameters for its forward
 * and backward, and the optimizer update runs per parameter inside backward, streaming the optimizer slots
 * in 64-byte chunks. Training must be bit-identical to the unmanaged model (plain and quantized; SGD with
 * momentum and weight decay, nesterov, plain SGD, Adam, AdamW), nothing may leak, reading a parameter at
 * rest must fail loudly, and tampered parameter or optimizer chunks must stop training with a SealError
 * naming the parameter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchLoader, channelStats } from '../../src/data/index.js';
import { loadDataset } from '../../src/data/spec.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import { type Parameter, parameterSize } from '../../src/nn/layers/layer.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';
import { ManagedMemory } from '../../src/nn/memory/index.js';
import type { SequentialModel } from '../../src/nn/model.js';
import { Adam, type FusableOptimizer, SGD } from '../../src/nn/optim.js';
import { trainStep } from '../../src/nn/train-step.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import type { MemoryBacking } from '../../src/tee/chunk-store.js';
import { SealError } from '../../src/tee/errors.js';
import { testBackend } from './helpers.js';
import { buildMemoryTestModel } from './memory-model.js';

const CHUNK = 64;
const data = loadDataset('synthetic:3x8x8:4', { limitTrain: 32, limitTest: 8, seed: 5 });
const backend = await testBackend();

const optimizers: [string, (ps: Parameter[]) => FusableOptimizer][] = [
  ['SGD momentum + weight decay', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 })],
  ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 1e-3 })],
  ['SGD without momentum (no slots)', (ps) => new SGD(ps, { lr: 0.05, weightDecay: 5e-4 })],
  ['Adam (L2)', (ps) => new Adam(ps, { lr: 0.01, weightDecay: 1e-3 })],
  ['AdamW', (ps) => new Adam(ps, { lr: 0.01, weightDecay: 1e-2, decoupled: true })],
];
const executors: [string, () => LinearExecutor][] = [
  ['plain', () => new PlainExecutor(backend)],
  ['quantized', () => new QuantizedExecutor({ backend, seed: 3 })],
];

interface Rig {
  model: SequentialModel;
  opt: FusableOptimizer;
  mem: ManagedMemory | null;
  /** One training step (forward, loss, backward, update) on batch `i`; returns the loss. */
  step(i: number): Promise<number>;
  /** Parameters, BN buffers and optimizer state as bytes (read through withResidentState when sealed). */
  snapshot(): Promise<Buffer[]>;
}

function rig(exec: LinearExecutor, makeOpt: (ps: Parameter[]) => FusableOptimizer, mem: ManagedMemory | null): Rig {
  const model = buildMemoryTestModel(exec);
  if (mem) model.attachMemory(mem);
  const opt = makeOpt(model.parameters());
  mem?.attachOptimizer(opt);
  const loader = new BatchLoader(data.train, { batchSize: 8, shuffle: false, seed: 2, norm: channelStats(data.train) });
  loader.beginEpoch();
  const batches = [loader.next()!, loader.next()!, loader.next()!, loader.next()!];
  const bytes = (a: Float32Array) => Buffer.from(a.slice().buffer);
  const read = () => [
    ...model.parameters().map((p) => bytes(p.value)),
    ...model.buffers().map((b) => bytes(b.value)),
    ...Object.values(opt.getState().tensors).map(bytes),
    Buffer.from(JSON.stringify(opt.getState().scalars)),
  ];
  return {
    model,
    opt,
    mem,
    async step(i) {
      const b = batches[i % batches.length];
      // a schedule: trainStep sets it before backward (the fused update reads it there)
      return (await trainStep(model, opt, b.x, b.labels, { lr: opt.lr * 0.9 })).loss;
    },
    snapshot: () => (mem ? mem.withResidentState(read, { write: false }) : Promise.resolve(read())),
  };
}

async function train(r: Rig, steps = 3): Promise<{ losses: number[]; state: Buffer[] }> {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(await r.step(s));
    if (s === 1) await r.model.forward((await evalBatch()).x, false); // evaluation in between
  }
  return { losses, state: await r.snapshot() };
}

async function evalBatch() {
  const l = new BatchLoader(data.test, { batchSize: 8, shuffle: false, seed: 0, norm: channelStats(data.train) });
  l.beginEpoch();
  return l.next()!;
}

function assertSame(a: { losses: number[]; state: Buffer[] }, b: { losses: number[]; state: Buffer[] }): void {
  assert.deepEqual(b.losses, a.losses);
  assert.equal(b.state.length, a.state.length);
  a.state.forEach((t, i) => assert.ok(t.equals(b.state[i]), `state tensor ${i} differs`));
}

const sealed = (o: { budgetBytes?: number } = {}) => new ManagedMemory({ chunkBytes: CHUNK, ...o });

describe('sealed parameters: bit-identical training', () => {
  for (const [mode, exec] of executors) {
    for (const [name, make] of optimizers) {
      it(`${mode}, ${name}: parameters, BN buffers, optimizer state and losses equal the unmanaged run`, async () => {
        const ref = await train(rig(exec(), make, null));
        const got = await train(rig(exec(), make, sealed({ budgetBytes: 1 })));
        assertSame(ref, got);
      });
    }
  }

  it("parameters: 'resident' keeps the layers' arrays (and optimizer.step()) and is bit-identical too", async () => {
    const make = optimizers[0][1];
    const ref = await train(rig(new PlainExecutor(backend), make, null));
    const mem = new ManagedMemory({ chunkBytes: CHUNK, parameters: 'resident' });
    const r = rig(new PlainExecutor(backend), make, mem);
    assert.equal(mem.fusesOptimizer, false);
    assertSame(ref, await train(r));
    const c = mem.report().categories;
    assert.ok(c.parameters.current > 0 && c.gradients.current > 0 && c.optimizer.current > 0, 'counted as fixed');
    assert.equal(mem.report().parameters, null);
  });
});

describe('sealed parameters: at rest', () => {
  it('reading a parameter, its gradient or the optimizer state at rest throws a clear error; model info still works', async () => {
    const r = rig(new PlainExecutor(backend), optimizers[0][1], sealed());
    const count = r.model.parameterCount();
    await r.step(0);
    const w = r.model.parameters()[0];
    assert.throws(() => w.value, /parameter '0\.weight' is sealed out \(managed memory/);
    assert.throws(() => w.grad, /parameter '0\.weight' has no resident gradient \(managed memory/);
    assert.throws(() => r.opt.getState(), /optimizer state of '0\.weight' is sealed out/);
    assert.throws(() => r.opt.step(), /sealed out/);
    assert.throws(() => r.model.attachMemory(null), /unsealParameters/);
    assert.equal(r.model.parameterCount(), count);
    assert.equal(r.model.summary().reduce((a, s) => a + s.params, 0), count);
    r.model.zeroGrad(); // a no-op: gradients exist only inside backward
  });

  it('backward without an attached optimizer is refused', async () => {
    const mem = sealed();
    const model = buildMemoryTestModel(new PlainExecutor(backend));
    model.attachMemory(mem);
    const b = await evalBatch();
    const r = softmaxCrossEntropy(await model.forward(b.x, true), b.labels);
    await assert.rejects(model.backward(r.grad), /attachOptimizer/);
  });

  it('after every step: pool in-use back to its pre-step value, one sealed copy per parameter and slot chunk, nothing fixed', async () => {
    const mem = sealed({ budgetBytes: 1 });
    const r = rig(new PlainExecutor(backend), optimizers[3][1], mem); // Adam: two slots
    const ps = r.model.parameters();
    const chunksOf = (p: Parameter) => Math.ceil((4 * parameterSize(p)) / CHUNK);
    const expected = ps.reduce((a, p) => a + chunksOf(p), 0) * (1 + 2);
    await r.step(0);
    for (let s = 1; s < 4; s++) {
      const before = mem.pool.inUse;
      await r.step(s);
      assert.equal(mem.pool.inUse, before, `step ${s}: in-use bytes back to their pre-step value`);
      assert.ok(mem.pool.leases <= 1, 'only the logits stay leased');
      const keys = [...(mem.backing as MemoryBacking).blobs.keys()];
      assert.deepEqual(keys.filter((k) => k.startsWith('activation:')), []);
      assert.equal(keys.filter((k) => k.startsWith('parameter:')).length, ps.reduce((a, p) => a + chunksOf(p), 0));
      assert.equal(keys.filter((k) => k.startsWith('optimizer:adam_m.')).length, ps.reduce((a, p) => a + chunksOf(p), 0));
      assert.equal(keys.length, expected, 'no orphan chunks');
      const rep = mem.report();
      assert.equal(rep.parameters!.chunks, expected);
      for (const c of ['parameters', 'gradients', 'optimizer'] as const) assert.equal(rep.categories[c].current, 0, `${c} resident`);
    }
    assert.equal(r.opt.steps, 4);
    await mem.unsealParameters();
    assert.equal((mem.backing as MemoryBacking).blobs.size, 0, 'unsealParameters leaves nothing in untrusted storage');
    assert.ok(mem.report().categories.parameters.current > 0, 'resident again');
    r.model.attachMemory(null);
    assert.equal(r.opt.getState().scalars.step, 4);
  });
});

describe('sealed parameters: tampered chunks', () => {
  async function stepped(steps: number) {
    const r = rig(new PlainExecutor(backend), optimizers[0][1], sealed());
    for (let s = 0; s < steps; s++) await r.step(s);
    return { r, blobs: (r.mem!.backing as MemoryBacking).blobs };
  }
  /** Flips `bit` in byte `back` bytes before the end of chunk `key`. */
  const alter = (blobs: Map<string, Uint8Array>, key: string, back: number, bit: number) => {
    const bad = blobs.get(key)!.slice();
    bad[bad.length - back] ^= bit;
    blobs.set(key, bad);
  };
  /** Keeps chunk `key` as of after step 1, plays it back after step 2 has resealed it; returns step 3. */
  async function replayed(key: string): Promise<number> {
    const { r, blobs } = await stepped(1);
    const old = blobs.get(key)!;
    await r.step(1);
    blobs.set(key, old);
    return r.step(2);
  }
  const refused = (code: string, re: RegExp) => (e: unknown) => {
    assert.ok(e instanceof SealError && e.code === code, String(e));
    assert.match(e.message, re);
    return true;
  };

  it('an altered parameter chunk stops the next forward with ALTERED naming the parameter', async () => {
    const { r, blobs } = await stepped(1);
    alter(blobs, 'parameter:4.body.0.weight/3', 20, 1);
    await assert.rejects(r.step(1), refused('ALTERED', /parameter '4\.body\.0\.weight' value \(chunk 3, version \d+\) could not be unsealed/));
  });

  it('two swapped parameter chunks are refused as SWAPPED', async () => {
    const { r, blobs } = await stepped(1);
    const a = blobs.get('parameter:0.weight/0')!;
    blobs.set('parameter:0.weight/0', blobs.get('parameter:0.weight/1')!);
    blobs.set('parameter:0.weight/1', a);
    await assert.rejects(r.step(1), refused('SWAPPED', /parameter '0\.weight'/));
  });

  it("a parameter chunk replayed from the previous step is refused as REPLAYED", async () => {
    await assert.rejects(replayed('parameter:8.bias/0'), refused('REPLAYED', /parameter '8\.bias'/));
  });

  it('a momentum chunk replayed from the previous step stops backward with REPLAYED naming the parameter', async () => {
    await assert.rejects(replayed('optimizer:momentum.5.shortcut.1.weight/0'), refused('REPLAYED', /parameter '5\.shortcut\.1\.weight' optimizer state 'momentum'/));
  });

  it('an altered momentum chunk is ALTERED; a lost parameter chunk is MISSING', async () => {
    const { r, blobs } = await stepped(1);
    alter(blobs, 'optimizer:momentum.11.weight/0', 17, 4);
    await assert.rejects(r.step(1), refused('ALTERED', /parameter '11\.weight' optimizer state 'momentum'/));
    const { r: r2, blobs: b2 } = await stepped(1);
    b2.delete('parameter:1.bias/0');
    await assert.rejects(r2.step(1), refused('MISSING', /parameter '1\.bias'/));
  });
});
