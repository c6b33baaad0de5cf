/**
 * Connection.setTensorPool with the enclave's budgeted pool (src/protocol/managed-buffers.ts receiveLeases):
 * received tensor frames are leases charged to the budget and returned exactly once; JSON frames keep the
 * connection's own pool; a frame cut off by a local destroy and an Error frame with a tensor body give their
 * buffer back (a budgeted pool would otherwise count it as in use forever).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame } from '../../src/net/frame.js';
import { InprocNetwork, inprocTransport } from '../../src/net/inproc.js';
import { MsgType } from '../../src/net/message-types.js';
import type { Connection } from '../../src/net/transport.js';
import { sizeClass, TensorPool } from '../../src/nn/memory/tensor-pool.js';
import { receiveLeases } from '../../src/protocol/managed-buffers.js';
import { MemoryBudget } from '../../src/tee/memory-budget.js';

function budgeted(): { pool: TensorPool; budget: MemoryBudget } {
  const budget = new MemoryBudget(1 << 30);
  return { pool: new TensorPool(budget), budget };
}

async function pair(mode: 'wire' | 'copy'): Promise<{ client: Connection; server: Connection }> {
  const t = inprocTransport(mode, new InprocNetwork());
  const l = await t.listen();
  const client = await t.connect({ host: l.host, port: l.port });
  const server = await l.accept();
  await l.close();
  return { client, server };
}

/** A raw byte channel into a wire-mode server connection whose tensor frames land in `pool`. */
async function rawPair(pool: TensorPool) {
  const t = inprocTransport('wire', new InprocNetwork());
  const l = await t.listen();
  const raw = await t.connectRaw(l.host, l.port);
  const server = await l.accept();
  await l.close();
  server.setTensorPool!(receiveLeases(pool));
  raw.start({ data: () => {}, end: () => {}, close: () => {} });
  return { raw, server };
}

describe('received tensor frames in a budgeted TensorPool', () => {
  for (const mode of ['wire', 'copy'] as const) {
    it(`inproc ${mode}: charged on arrival, released exactly once, reused; JSON frames stay outside`, async () => {
      const { pool, budget } = budgeted();
      const { client, server } = await pair(mode);
      server.setTensorPool!(receiveLeases(pool));
      const data = Int32Array.from({ length: 3000 }, (_, i) => i - 1500);
      await client.send({ type: MsgType.Result, opId: 1, dtype: 'int32', data });
      const m = await server.recv();
      assert.ok(m.dtype === 'int32' && pool.owns(m.data), 'the payload lives in a pool lease');
      assert.deepEqual([...m.data], [...data]);
      assert.equal(pool.inUse, sizeClass(12000), 'one size class (12 KiB) in use');
      assert.equal(budget.current('pool'), sizeClass(12000));
      m.release();
      m.release(); // a second release must not drop another holder's lease
      assert.equal(pool.inUse, 0);
      assert.equal(pool.leases, 0);
      await client.send({ type: MsgType.Result, opId: 2, dtype: 'float32', data: new Float32Array(3000) });
      const m2 = await server.recv();
      assert.equal(pool.allocations, 1, 'the second frame reuses the first one’s buffer');
      // the pool lends the buffer again after m2's release: a stale second release must not drop that lease
      m2.release();
      const other = pool.bytes(12000);
      assert.equal(other.buffer, m2.dtype === 'float32' ? m2.data.buffer : null);
      m2.release();
      assert.equal(pool.refCount(other), 1);
      pool.release(other);
      await client.send({ type: MsgType.Control, opId: 3, dtype: 'json', value: { kind: 'hello', pad: 'x'.repeat(5000) } });
      const j = await server.recv();
      assert.equal(j.dtype, 'json');
      assert.equal(pool.allocations, 1, 'JSON frames do not touch the budgeted pool');
      server.setTensorPool!(null);
      await client.send({ type: MsgType.Result, opId: 4, dtype: 'int32', data });
      const m3 = await server.recv();
      assert.ok(m3.dtype === 'int32' && !pool.owns(m3.data), 'null: back to the connection’s own pool');
      m3.release();
      assert.equal(pool.inUse, 0);
      await client.close();
      await server.close();
    });
  }

  it('a frame cut off by a local destroy gives its buffer back', async () => {
    const { pool } = budgeted();
    const { raw, server } = await rawPair(pool);
    const f = encodeFrame({ type: MsgType.Result, opId: 1, dtype: 'int32', data: new Int32Array(5000) });
    await new Promise<void>((r) => raw.write([f.header, f.payload.subarray(0, 1000)], () => r()));
    await new Promise((r) => setImmediate(r));
    assert.equal(pool.inUse, sizeClass(20000), 'the frame in flight is charged (its 20 KiB class)');
    server.destroy();
    await server.closed;
    assert.equal(pool.inUse, 0, 'released when the connection closes mid-frame');
    assert.equal(pool.leases, 0);
  });

  it('an Error frame with a tensor body gives its buffer back', async () => {
    const { pool } = budgeted();
    const { raw, server } = await rawPair(pool);
    const f = encodeFrame({ type: MsgType.Error, opId: 1, dtype: 'int32', data: new Int32Array(5000) });
    await new Promise<void>((r) => raw.write([f.header, f.payload], () => r()));
    await assert.rejects(server.recv({ timeoutMs: 2000 }));
    assert.equal(pool.allocations, 1, 'it was received into the pool');
    assert.equal(pool.inUse, 0);
  });
});
