/**
 * The layer-memory contract (src/nn/memory/layer-memory.ts): a layer allocates and saves through
 * `ctx.mem` and never releases anything; the memory ends every buffer of a call but the returned one,
 * a saved buffer lives exactly as long as its record, and `Model.attachMemory` swaps the memory under
 * the layers. Checked with a probe layer that leases an output, a temporary and a saved buffer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flatten } from '../../src/nn/layers/flatten.js';
import { type Layer, ShapePreservingLayer } from '../../src/nn/layers/layer.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { ManagedMemory, PrivateMemory } from '../../src/nn/memory/index.js';
import { modelContext, SequentialModel } from '../../src/nn/model.js';
import { SGD } from '../../src/nn/optim.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { Rng } from '../../src/nn/rng.js';
import { trainStep } from '../../src/nn/train-step.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { testBackend } from './helpers.js';

const TMP = 5000;

/** y = 2x + x² (x² saved for backward; a scratch temporary is leased and dropped on the floor). */
class Probe extends ShapePreservingLayer implements Layer {
  readonly type = 'probe';
  last: { y: Float32Array; tmp: Float32Array; sq: Float32Array; mem: unknown } | null = null;

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    const mem = this.ctx.mem;
    const y = mem.f32(this, 'y', x.size);
    const tmp = mem.f32(this, 'tmp', TMP); // a size class of its own, so the pool lends it to nobody else
    const sq = mem.f32(this, 'sq', x.size);
    for (let i = 0; i < x.size; i++) {
      tmp[i] = 2 * x.data[i];
      sq[i] = x.data[i] * x.data[i];
      y[i] = tmp[i] + sq[i];
    }
    mem.save(this, 'x', x);
    mem.save(this, 'sq', new Tensor(x.shape, sq));
    this.last = { y, tmp, sq, mem };
    return new Tensor(x.shape, y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    const x = this.ctx.mem.load(this, 'x');
    this.ctx.mem.load(this, 'sq'); // must still be there
    if (!needInputGrad) return null;
    const dx = this.ctx.mem.f32(this, 'dx', x.size);
    for (let i = 0; i < x.size; i++) dx[i] = dy.data[i] * (2 + 2 * x.data[i]);
    return new Tensor(x.shape, dx);
  }
}

const backend = await testBackend();

function probeModel(): { model: SequentialModel; probe: Probe } {
  const ctx = modelContext(new PlainExecutor(backend), new Rng(3));
  const probe = new Probe('0', ctx);
  const layers = [probe, new Flatten('1'), new Linear('2', ctx, { layer: '2', index: 0 }, { inF: 2 * 3 * 3, outF: 4 })];
  return { model: new SequentialModel('probe-net', [2, 3, 3], 4, layers, ctx), probe };
}

function batch(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Tensor([n, 2, 3, 3]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  return { x, y: Int32Array.from({ length: n }, () => rng.int(4)) };
}

async function losses(model: SequentialModel, steps: number): Promise<number[]> {
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { x, y } = batch(5, 10 + s);
    out.push((await trainStep(model, opt, x, y)).loss);
  }
  return out;
}

describe('ctx.mem: the layer memory contract', () => {
  it('managed: a call ends its temporaries, a saved buffer is held once by its record, and a step leaves the pool as it found it', async () => {
    const { model, probe } = probeModel();
    const mem = new ManagedMemory({ parameters: 'resident' });
    model.attachMemory(mem);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    let baseline = -1;
    for (let s = 0; s < 3; s++) {
      const { x, y } = batch(5, 10 + s);
      const inUseBefore = mem.pool.inUse;
      await trainStep(model, opt, x, y, {
        onPhase: (p) => {
          if (p !== 'forward') return;
          const l = probe.last!;
          assert.equal(l.mem, mem, 'attachMemory swapped the memory the layer sees');
          assert.equal(mem.pool.refCount(l.tmp), 0, 'the temporary ended with the call');
          assert.equal(mem.pool.refCount(l.sq), 1, 'the saved buffer is held by its record only');
          assert.equal(mem.store.records, 3, 'probe x (the batch), probe x², linear x');
        },
      });
      assert.equal(mem.store.records, 0, 'every saved tensor released after backward, and only once (a second release throws)');
      assert.ok(mem.pool.leases <= 1, `only the logits stay leased, got ${mem.pool.leases}`);
      if (s === 0) baseline = mem.pool.inUse;
      else assert.equal(mem.pool.inUse, baseline, `step ${s}: live bytes back to the baseline`);
      if (s > 0) assert.equal(inUseBefore, baseline);
    }
    model.attachMemory(null);
    assert.equal(mem.pool.leases, 0, 'detaching drops the logits lease');
  });

  it('unmanaged: each layer owns its buffers, reused by name across calls; results equal managed ones bit for bit', async () => {
    const a = probeModel();
    const ref = await losses(a.model, 3);
    const first = a.probe.last!;
    assert.ok(first.mem instanceof PrivateMemory);
    await a.model.forward(batch(5, 1).x, true);
    assert.equal(a.probe.last!.y, first.y, 'the same buffer for the same key and size');
    await a.model.forward(batch(2, 1).x, true);
    assert.equal(a.probe.last!.y.buffer, first.y.buffer, 'a smaller batch gets a view of the same buffer');
    const b = probeModel();
    b.model.attachMemory(new ManagedMemory());
    assert.deepEqual(await losses(b.model, 3), ref);
  });

  it('backward without a saved tensor names the layer and the slot', async () => {
    const { model } = probeModel();
    await assert.rejects(model.backward(new Tensor([5, 4])), /layer '2': backward called before a training forward \(nothing saved as 'x'\)/);
  });
});
