/**
 * The enclave memory accountant (src/tee/memory-budget.ts), the shared buffer pool and the saved-tensor
 * store (src/nn/memory): counting, peaks, reuse, eviction under the budget, sealed round trips.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sizeClass, TensorPool } from '../../src/nn/memory/tensor-pool.js';
import { TensorStore } from '../../src/nn/memory/tensor-store.js';
import { MemoryBacking, SealedChunkStore } from '../../src/tee/chunk-store.js';
import { SealError } from '../../src/tee/errors.js';
import { MemoryBudget } from '../../src/tee/memory-budget.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../../src/tee/provider.js';
import { Sealer } from '../../src/tee/seal.js';

const MiB = 1024 * 1024;

/** Saves a buffer the caller leased and then ends the caller's hold, as a layer's call does when it returns. */
function saveOwned(store: TensorStore, pool: TensorPool, name: string, a: Float32Array) {
  const r = store.save(name, a);
  pool.release(a);
  return r;
}

describe('MemoryBudget', () => {
  it('defaults to 90 MiB and tracks managed and fixed categories with their peaks', () => {
    const b = new MemoryBudget();
    assert.equal(b.budgetBytes, DEFAULT_MEMORY_BUDGET_BYTES);
    assert.equal(b.budgetBytes, 90 * MiB);
    b.charge('pool', 10 * MiB);
    b.charge('saved-external', 2 * MiB);
    b.charge('pool', -4 * MiB);
    b.setFixed('parameters', 30 * MiB);
    b.setFixed('parameters', 20 * MiB);
    const r = b.report();
    assert.deepEqual(r.managed, { current: 8 * MiB, peak: 12 * MiB });
    assert.deepEqual(r.fixed, { current: 20 * MiB, peak: 30 * MiB });
    assert.deepEqual(r.categories.pool, { current: 6 * MiB, peak: 10 * MiB });
    assert.equal(r.totalPeak, 8 * MiB + 30 * MiB, 'the largest sum at any one time');
    assert.equal(r.overBudgetEvents, 0);
    // the budget bounds managed + fixed: 90 − 8 − 20 = 62 MiB left
    assert.ok(b.fits(62 * MiB) && !b.fits(62 * MiB + 1));
  });

  it('counts each excursion above the budget once, and refuses negative totals and bad budgets', () => {
    const b = new MemoryBudget(100);
    b.charge('pool', 150);
    b.charge('pool', 10);
    b.charge('pool', -100);
    b.charge('pool', 80);
    assert.equal(b.report().overBudgetEvents, 2);
    assert.throws(() => b.charge('pool', -1000), /released twice/);
    assert.throws(() => new MemoryBudget(0), /positive/);
    assert.throws(() => new MemoryBudget(1.5), /positive/);
    b.resetPeaks();
    assert.equal(b.report().managed.peak, 140);
  });

  it('bounds managed + fixed: fixed memory alone can take the total over the budget', () => {
    const b = new MemoryBudget(100);
    b.charge('pool', 60);
    assert.equal(b.report().overBudgetEvents, 0);
    b.setFixed('backend', 50); // 110 > 100
    assert.equal(b.report().overBudgetEvents, 1);
    assert.equal(b.fixed, 50);
    b.charge('pool', -20); // 90: back inside
    assert.ok(b.fits(10) && !b.fits(11));
    b.charge('pool', 11); // 101: a second excursion
    assert.equal(b.report().overBudgetEvents, 2);
    assert.equal(b.report().totalPeak, 110);
  });
});

describe('TensorPool', () => {
  it('rounds to quarter-power-of-two classes, reuses released buffers and refcounts holders', () => {
    assert.equal(sizeClass(1), 4096);
    assert.equal(sizeClass(4097), 5120);
    assert.equal(sizeClass(8 * MiB), 8 * MiB);
    assert.equal(sizeClass(8 * MiB + 1), 10 * MiB);
    assert.equal(sizeClass(9 * MiB), 10 * MiB, 'a 512×512×3×3 VGG weight: 10 MiB, not 16');
    assert.equal(sizeClass(14 * MiB + 1), 16 * MiB);
    for (let n = 1; n < 1 << 26; n = Math.ceil(n * 1.37) + 1) {
      const c = sizeClass(n);
      assert.ok(c >= n && c <= Math.max(4096, 1.25 * n) && c % 1024 === 0, `class of ${n}: ${c}`);
    }
    const b = new MemoryBudget(64 * MiB);
    const p = new TensorPool(b);
    const a = p.f32(1000); // 4000 B → 4 KiB class
    assert.equal(a.length, 1000);
    assert.equal(p.allocated, 4096);
    assert.ok(p.retain(a));
    p.release(a);
    assert.equal(p.inUse, 4096, 'still held once');
    p.release(a);
    assert.equal(p.inUse, 0);
    const c = p.i32(900);
    assert.equal(c.buffer, a.buffer, 'same class → same buffer');
    assert.equal(p.allocations, 1);
    assert.equal(b.current('pool'), 4096);
    // buffers the pool does not own pass through
    const mine = new Float32Array(10);
    assert.equal(p.retain(mine), false);
    p.release(mine);
    assert.equal(p.refCount(mine), 0);
  });

  it('measures nested working sets: the most bytes leased at once since a mark, beyond those in use at it', () => {
    const p = new TensorPool(new MemoryBudget(64 * MiB));
    const keep = p.bytes(MiB);
    p.openMark(); // outer (a residual block)
    const a = p.bytes(2 * MiB);
    p.openMark(); // inner (one of its layers)
    const b = p.bytes(4 * MiB);
    p.release(b);
    const c = p.bytes(MiB);
    assert.equal(p.closeMark(), 4 * MiB, 'inner: b alone');
    p.release(a);
    p.release(c);
    assert.equal(p.closeMark(), 6 * MiB, 'outer: a and b at once');
    p.openMark();
    assert.equal(p.closeMark(), 0);
    assert.throws(() => p.closeMark(), /without openMark/);
    p.release(keep);
  });

  it('serves a lease from a free buffer up to 2× its class, else drops free buffers of other classes to fit', () => {
    const b = new MemoryBudget(4 * MiB);
    const p = new TensorPool(b);
    const x = p.bytes(2 * MiB);
    p.release(x);
    const y = p.bytes(MiB); // the free 2 MiB buffer is within 2×: reused, nothing new allocated
    assert.equal(y.buffer, x.buffer);
    assert.equal(p.allocated, 2 * MiB);
    assert.equal(p.inUse, 2 * MiB, 'a lease counts the buffer it really holds');
    const w = p.bytes(0.75 * MiB); // no free buffer: a fresh 0.75 MiB one (2.75 MiB fits)
    assert.equal(p.allocated, 2.75 * MiB);
    p.release(y);
    p.release(w);
    const v = p.bytes(0.25 * MiB); // free 2 and 0.75 MiB are both more than 2× away: a fresh buffer
    assert.equal(p.allocated, 3 * MiB);
    p.release(v);
    const z = p.bytes(3.5 * MiB); // needs 3.5 of 4 MiB: free buffers dropped, largest first, until it fits
    assert.equal(p.allocated, 3.75 * MiB, 'the 2 and 0.75 MiB buffers dropped, the 0.25 MiB one kept');
    assert.equal(b.report().overBudgetEvents, 0);
    p.release(z);
    p.trim();
    assert.equal(p.allocated, 0);
    assert.equal(b.current('pool'), 0);
  });
});

describe('TensorStore', () => {
  const make = (chunk = 1024) => {
    const budget = new MemoryBudget(16 * MiB);
    const pool = new TensorPool(budget);
    const backing = new MemoryBacking();
    const store = new TensorStore(budget, pool, Sealer.fromKey(randomBytes(32)), backing, chunk);
    return { budget, pool, backing, store };
  };

  it('seals a saved tensor out in chunks, frees its buffer, and restores it bit for bit', async () => {
    const { pool, backing, store } = make();
    store.beginStep();
    const t = pool.f32(1000);
    for (let i = 0; i < t.length; i++) t[i] = Math.sin(i) * 1e3;
    const expect = Buffer.from(t.buffer, 0, 4000).toString('hex');
    const r = saveOwned(store, pool, '3.x', t);
    assert.equal(pool.inUse, 4096);
    await store.offload(r);
    assert.equal(r.view, null);
    assert.equal(pool.inUse, 0, 'the plaintext went back to the pool');
    assert.equal(r.chunks, 4, '4000 bytes in 1024-byte chunks');
    assert.deepEqual([...backing.blobs.keys()].sort(), ['activation:3.x/0', 'activation:3.x/1', 'activation:3.x/2', 'activation:3.x/3']);
    for (const blob of backing.blobs.values()) assert.ok(!Buffer.from(blob).toString('hex').includes(expect.slice(0, 64)), 'no plaintext in untrusted memory');
    await store.restore(r);
    assert.equal(Buffer.from(r.view!).toString('hex'), expect);
    store.release(r);
    await store.flush();
    assert.equal(backing.blobs.size, 0, 'chunks deleted after the last holder');
    assert.equal(pool.inUse, 0);
  });

  it('shares one record between two holders of the same buffer; external buffers are counted, not pooled', async () => {
    const { budget, pool, store } = make();
    store.beginStep();
    const y = pool.f32(256);
    const a = store.save('2.y', y);
    const b = store.save('3.x', y);
    assert.equal(a, b);
    assert.equal(a.refs, 2);
    assert.equal(pool.refCount(y), 2, 'the caller and the record');
    const batch = new Float32Array(64);
    const e = store.save('0.x', batch);
    assert.equal(e.pooled, false);
    assert.equal(budget.current('saved-external'), 256);
    store.release(e);
    assert.equal(budget.current('saved-external'), 0);
    store.release(a);
    store.release(a);
    pool.release(y);
    assert.equal(pool.inUse, 0);
    assert.throws(() => store.release(a), /released more often/);
  });

  it('versions chunks by step: a blob from an earlier step is refused as REPLAYED', async () => {
    const { pool, backing, store } = make();
    store.beginStep();
    const r1 = saveOwned(store, pool, '1.xhat', pool.f32(100));
    await store.offload(r1);
    const old = backing.blobs.get('activation:1.xhat/0')!;
    store.release(r1);
    await store.flush();
    store.beginStep();
    const r2 = saveOwned(store, pool, '1.xhat', pool.f32(100));
    await store.offload(r2);
    backing.blobs.set('activation:1.xhat/0', old);
    await assert.rejects(store.restore(r2), (e: unknown) => e instanceof SealError && e.code === 'REPLAYED' && /'1\.xhat' \(step 2\)/.test(e.message));
    assert.equal(pool.inUse, 0, 'a refused restore returns its buffer');
  });

  it('SealedChunkStore.put with an explicit version must move forward', async () => {
    const s = new SealedChunkStore(Sealer.fromKey(randomBytes(32)), new MemoryBacking(), 'activation:t');
    assert.equal(await s.put('0', new Uint8Array(4), 5), 5);
    await assert.rejects(s.put('0', new Uint8Array(4), 5), /does not exceed/);
    assert.equal(await s.put('0', new Uint8Array(4)), 6);
  });
});
