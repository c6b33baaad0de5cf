/**
 * Managed memory mode (src/nn/memory): training with pooled buffers and sealed-out saved tensors must be
 * bit-identical to the unmanaged model, in plain and quantized mode; tampering with an offloaded chunk
 * must stop training with a clear error; the pool must reach a steady state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchLoader, channelStats } from '../../src/data/index.js';
import { loadDataset } from '../../src/data/spec.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';
import { ManagedMemory, type ManagedMemoryOptions } from '../../src/nn/memory/index.js';
import type { SequentialModel } from '../../src/nn/model.js';
import { SGD } from '../../src/nn/optim.js';
import { type StepPhase, trainStep } from '../../src/nn/train-step.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import { MemoryBacking } from '../../src/tee/chunk-store.js';
import { SealError } from '../../src/tee/errors.js';
import { testBackend } from './helpers.js';
import { buildMemoryTestModel } from './memory-model.js';

const data = loadDataset('synthetic:3x8x8:4', { limitTrain: 24, limitTest: 8, seed: 5 });
const backend = await testBackend();

interface Run {
  params: Uint32Array[];
  losses: number[];
  model: SequentialModel;
}

/** `steps` SGD steps (with an inference forward in between, as the trainer's evaluation does). */
async function run(executor: LinearExecutor, mem: ManagedMemory | null, steps = 3, onForward?: (m: ManagedMemory) => void): Promise<Run> {
  const model = buildMemoryTestModel(executor);
  if (mem) model.attachMemory(mem);
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const loader = new BatchLoader(data.train, { batchSize: 8, shuffle: true, seed: 2, norm: channelStats(data.train), augment: false });
  loader.beginEpoch();
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const b = loader.next()!;
    const onPhase = (p: StepPhase): void => {
      if (p === 'forward' && mem && onForward) onForward(mem);
    };
    losses.push((await trainStep(model, opt, b.x, b.labels, { onPhase })).loss);
    if (s === 1) await model.forward(b.x, false); // evaluation between steps must not disturb anything
  }
  const read = () => [...model.parameters().map((p) => p.value), ...model.buffers().map((b) => b.value)].map((v) => new Uint32Array(v.slice().buffer));
  const params = mem ? await mem.withResidentState(read, { write: false }) : read();
  return { params, losses, model };
}

function assertBitIdentical(a: Run, b: Run): void {
  assert.deepEqual(b.losses, a.losses);
  assert.equal(b.params.length, a.params.length);
  a.params.forEach((p, i) => assert.ok(Buffer.from(p.buffer).equals(Buffer.from(b.params[i].buffer)), `tensor ${i} differs`));
}

const executors: [string, () => LinearExecutor][] = [
  ['plain', () => new PlainExecutor(backend)],
  ['quantized', () => new QuantizedExecutor({ backend, seed: 3 })],
];

describe('managed memory: bit-identical training', () => {
  for (const [mode, make] of executors) {
    it(`${mode}: every saved tensor sealed out and streamed back in 64-byte chunks`, async () => {
      const ref = await run(make(), null);
      const mem = new ManagedMemory({ budgetBytes: 1, chunkBytes: 64 });
      const got = await run(make(), mem, 3, (m) => {
        // after a training forward under a 1-byte budget nothing the pool owns is kept resident except
        // the last layer's input (8 × 12 floats): room is made before each layer, and its backward comes first
        const { resident } = m.store.residency();
        const lastInput = 8 * 12 * 4;
        assert.ok(resident <= m.store.external + lastInput, `resident saved bytes ${resident} beyond the input batch ${m.store.external} + ${lastInput}`);
      });
      assertBitIdentical(ref, got);
      const r = mem.report();
      // every sealed tensor came back; under a 1-byte budget a tensor two layers share (the block input a
      // residual body and shortcut both keep) can be dropped again between their backwards and restored twice
      assert.ok(r.store.offloadedBytes > 0 && r.store.restoredBytes >= r.store.offloadedBytes, `offloaded ${r.store.offloadedBytes} B, restored ${r.store.restoredBytes} B`);
      assert.ok(r.store.chunksWritten > r.store.offloadedBytes / 64 - 1);
      assert.equal(r.store.records, 0, 'no saved tensor outlives its backward');
      const activations = [...(mem.backing as MemoryBacking).blobs.keys()].filter((k) => k.startsWith('activation:'));
      assert.deepEqual(activations, [], 'sealed activation chunks are deleted after use');
      assert.equal(r.steps, 3);
    });

    it(`${mode}: generous budget keeps everything resident in pooled buffers`, async () => {
      const ref = await run(make(), null);
      const mem = new ManagedMemory();
      const got = await run(make(), mem);
      assertBitIdentical(ref, got);
      assert.equal(mem.report().store.offloadedBytes, 0);
    });
  }

  it('a budget in between offloads some tensors and keeps the managed peak within it', async () => {
    const ref = await run(new PlainExecutor(backend), null);
    const probe = new ManagedMemory();
    await run(new PlainExecutor(backend), probe);
    const budget = Math.floor(probe.report().managed.peak * 0.8);
    const mem = new ManagedMemory({ budgetBytes: budget, reserveFactor: 1 });
    const got = await run(new PlainExecutor(backend), mem);
    assertBitIdentical(ref, got);
    const r = mem.report();
    assert.ok(r.store.offloadedBytes > 0, 'something was offloaded');
    assert.ok(r.managed.peak < probe.report().managed.peak, `managed peak ${r.managed.peak} vs unconstrained ${probe.report().managed.peak}`);
  });

  it('the pool reaches a steady state: later steps allocate no new buffers', async () => {
    const mem = new ManagedMemory({ budgetBytes: 1 << 20 });
    const model = buildMemoryTestModel(new PlainExecutor(backend));
    model.attachMemory(mem);
    mem.attachOptimizer(new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }));
    const loader = new BatchLoader(data.train, { batchSize: 8, shuffle: false, seed: 2, norm: channelStats(data.train) });
    let after2 = 0;
    for (let s = 0; s < 6; s++) {
      if (s % 3 === 0) loader.beginEpoch();
      const b = loader.next()!;
      const logits = await model.forward(b.x, true);
      model.zeroGrad();
      await model.backward(softmaxCrossEntropy(logits, b.labels).grad);
      if (s === 1) after2 = mem.pool.allocations;
      assert.ok(mem.pool.leases <= 1, `only the logits stay leased between steps, got ${mem.pool.leases}`);
    }
    assert.equal(mem.pool.allocations, after2);
  });
});

describe('managed memory: tampered offloaded chunks', () => {
  /** One training forward with everything offloaded; returns the model, the batch's gradient and the untrusted blobs. */
  async function forwardOffloaded() {
    const mem = new ManagedMemory({ budgetBytes: 1, chunkBytes: 256 });
    const model = buildMemoryTestModel(new PlainExecutor(backend));
    model.attachMemory(mem);
    mem.attachOptimizer(new SGD(model.parameters(), { lr: 0.05 }));
    const loader = new BatchLoader(data.train, { batchSize: 8, shuffle: false, seed: 2, norm: channelStats(data.train) });
    loader.beginEpoch();
    const b = loader.next()!;
    const step = async () => softmaxCrossEntropy(await model.forward(b.x, true), b.labels).grad;
    return { model, blobs: (mem.backing as MemoryBacking).blobs, step };
  }

  it('an altered byte stops backward with ALTERED naming the tensor', async () => {
    const { model, blobs, step } = await forwardOffloaded();
    const grad = await step();
    const [key, blob] = [...blobs].find(([k]) => k.startsWith('activation:1.xhat/'))!;
    const bad = blob.slice();
    bad[bad.length - 20] ^= 1;
    blobs.set(key, bad);
    await assert.rejects(model.backward(grad), (e: unknown) => {
      assert.ok(e instanceof SealError && e.code === 'ALTERED', String(e));
      assert.match(e.message, /offloaded activation '1\.xhat' \(step 1\) could not be restored/);
      return true;
    });
  });

  it('a swapped chunk (another chunk of the same tensor) is refused as SWAPPED', async () => {
    const { model, blobs, step } = await forwardOffloaded();
    const grad = await step();
    const a = blobs.get('activation:1.xhat/0')!;
    blobs.set('activation:1.xhat/0', blobs.get('activation:1.xhat/1')!);
    blobs.set('activation:1.xhat/1', a);
    await assert.rejects(model.backward(grad), (e: unknown) => e instanceof SealError && e.code === 'SWAPPED');
  });

  it("a chunk replayed from the previous step is refused as REPLAYED", async () => {
    const { model, blobs, step } = await forwardOffloaded();
    await model.backward(await step());
    // the host keeps a copy of step 2's chunk and plays it back in step 3
    const grad2 = await step();
    const old = blobs.get('activation:1.xhat/0')!;
    await model.backward(grad2);
    const grad3 = await step();
    blobs.set('activation:1.xhat/0', old);
    await assert.rejects(model.backward(grad3), (e: unknown) => e instanceof SealError && e.code === 'REPLAYED');
  });

  it('a lost chunk is refused as MISSING', async () => {
    const { model, blobs, step } = await forwardOffloaded();
    const grad = await step();
    blobs.delete('activation:1.xhat/0');
    await assert.rejects(model.backward(grad), (e: unknown) => e instanceof SealError && e.code === 'MISSING');
  });
});

describe('managed memory: options', () => {
  it('refuses chunk sizes above 1 MiB or not a multiple of 4', () => {
    assert.throws(() => new ManagedMemory({ chunkBytes: 2 << 20 } as ManagedMemoryOptions), /chunk size/);
    assert.throws(() => new ManagedMemory({ chunkBytes: 10 }), /chunk size/);
  });
});
