/**
 * Untrusted input at a worker: malformed op headers, wrong tensor sizes,
 * values outside Z_P and unknown messages close that connection with a clear
 * error; the worker service keeps serving other connections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { HALF } from '../../src/field/prime.js';
import { inprocTransport } from '../../src/net/inproc.js';
import { MsgType } from '../../src/net/message-types.js';
import { ConnectionClosedError, type Connection } from '../../src/net/transport.js';
import { WorkerService } from '../../src/roles/worker-service.js';

const keys = { A0: new Uint8Array(16).fill(1), B0: new Uint8Array(16).fill(2), CM0: new Uint8Array(16).fill(3) };
const goodHeader = { op: { layer: 'linear', pass: 'forward', geom: { batch: 2, inF: 3, outF: 4 } }, layer: 0, attempt: 0 };

async function pair(svc: WorkerService): Promise<{ client: Connection; served: Promise<Error | null> }> {
  const t = inprocTransport('wire');
  const l = await t.listen({ host: 'w', port: 0 });
  const client = await t.connect({ host: l.host, port: l.port });
  const server = await l.accept();
  await l.close();
  svc.addSubscriber(server);
  return { client, served: svc.serveFeeder(server) };
}

async function expectRejected(svc: WorkerService, send: (c: Connection) => Promise<void>, reason: RegExp): Promise<void> {
  const { client, served } = await pair(svc);
  await send(client);
  const err = await served;
  assert.ok(err instanceof Error, 'the connection ended with an error');
  assert.match(err.message, reason);
  await assert.rejects(client.recv({ timeoutMs: 2000 }), 'the client sees the connection closed');
}

describe('worker robustness against malformed requests', () => {
  const svc = new WorkerService(0, createJsBackend(), keys);
  const req = (value: unknown) => ({ type: MsgType.OpRequest, opId: 1, dtype: 'json' as const, value });
  const shares = (data: Int32Array) => ({ type: MsgType.Shares, opId: 1, dtype: 'int32' as const, data });

  it('rejects a header with an unknown layer kind', () =>
    expectRejected(svc, (c) => c.send(req({ ...goodHeader, op: { ...goodHeader.op, layer: 'lstm' } })), /unknown layer kind/));

  it('rejects absurd sizes before allocating anything', () =>
    expectRejected(svc, (c) => c.send(req({ ...goodHeader, op: { ...goodHeader.op, geom: { batch: 1 << 24, inF: 1 << 24, outF: 2 } } })), /exceeds/));

  it('rejects a tensor of the wrong length', () =>
    expectRejected(svc, async (c) => {
      await c.send(req(goodHeader));
      await c.send(shares(new Int32Array(5)));
    }, /expected 12 elements/));

  it('rejects values outside the centred range', () =>
    expectRejected(svc, async (c) => {
      await c.send(req(goodHeader));
      await c.send(shares(new Int32Array(12).fill(HALF + 1)));
    }, /outside the centred range/));

  it('rejects a message that is not an op request', () =>
    expectRejected(svc, (c) => c.send({ type: MsgType.Data, dtype: 'json', value: {} }), /expected an op request/));

  it('a feeder that leaves before its stats reply ends that feeder, not the service', async () => {
    // a connection whose peer is gone by the time the reply is sent
    let destroyed = false;
    const gone = {
      peer: 'e0',
      recv: async () => ({ type: MsgType.Control, opId: 9, label: '', flags: 0, dtype: 'json', dims: [], value: { kind: 'stats' }, frameBytes: 0, release() {} }),
      send: async () => {
        throw new ConnectionClosedError('send to e0 failed: socket is not writable');
      },
      close: async () => {},
      destroy: () => {
        destroyed = true;
      },
    } as unknown as Connection;
    assert.equal(await svc.serveFeeder(gone), null, 'serveFeeder resolves (a rejection would crash the worker process)');
    assert.ok(destroyed, 'the dead connection is closed');
  });

  it('refuses a second concurrent feeder (they would share the pooled result buffer)', async () => {
    const first = await pair(svc);
    const second = await pair(svc);
    const err = await second.served;
    assert.ok(err instanceof Error);
    assert.match(err.message, /already has a feeding enclave/);
    await first.client.send({ type: MsgType.Bye, dtype: 'json', value: {} });
    assert.equal(await first.served, null);
  });

  it('still serves a well-formed request afterwards', async () => {
    const { client, served } = await pair(svc);
    await client.send(req(goodHeader));
    await client.send(shares(new Int32Array(12).fill(5)));
    await client.send(shares(new Int32Array(6).fill(-7)));
    const res = await client.expect(MsgType.Result, { opId: 1, timeoutMs: 5000 });
    assert.equal(res.dtype, 'int32');
    assert.equal(res.dims[0], 8);
    await client.send({ type: MsgType.Bye, dtype: 'json', value: {} });
    assert.equal(await served, null);
  });
});

describe('lean worker 0 against malformed requests and operands', () => {
  const leanKeys = { S0: new Uint8Array(16).fill(4), CM0: new Uint8Array(16).fill(5) };
  const fresh = (kind: string, version = 0) => ({ kind, version, fresh: true });
  const leanHeader = { ...goodHeader, a: fresh('W'), b: fresh('X') };
  const req = (value: unknown) => ({ type: MsgType.OpRequest, opId: 1, dtype: 'json' as const, value });
  const packed = (n: number, v = 0) => {
    const out = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) out.set([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff], 3 * i);
    return { type: MsgType.Shares, opId: 1, dtype: 'int24' as const, data: out };
  };

  /** A lean worker 0 whose link to worker 1 is an in-process pair; returns what it relays there. */
  async function leanWorker0(): Promise<{ svc: WorkerService; relayed: Connection }> {
    const t = inprocTransport('wire');
    const l = await t.listen({ host: 'w1', port: 0 });
    const w1 = await t.connect({ host: l.host, port: l.port });
    const relayed = await l.accept();
    await l.close();
    return { svc: new WorkerService(0, createJsBackend(), leanKeys, { protocol: 'lean', links: { w1 } }), relayed };
  }

  it('rejects operand refs of the wrong kind, version or form', async () => {
    const { svc } = await leanWorker0();
    await expectRejected(svc, (c) => c.send(req({ ...leanHeader, a: fresh('dY') })), /operand a must be of kind W/);
    await expectRejected(svc, (c) => c.send(req({ ...leanHeader, b: { kind: 'X', version: -1, fresh: true } })), /version must be an integer/);
    await expectRejected(svc, (c) => c.send(req({ ...leanHeader, b: { kind: 'X', version: 0 } })), /boolean 'fresh'/);
    await expectRejected(svc, (c) => c.send(req(goodHeader)), /operand a must be an object/);
  });

  it('refuses an operand version it does not hold', async () => {
    const { svc } = await leanWorker0();
    await expectRejected(svc, (c) => c.send(req({ ...leanHeader, a: { kind: 'W', version: 3, fresh: false } })), /operand W v3 of layer 0 is not held/);
  });

  it('rejects a packed operand of the wrong length, an unpacked one, and values outside the centred range', async () => {
    const { svc } = await leanWorker0();
    await expectRejected(svc, async (c) => {
      await c.send(req(leanHeader));
      await c.send(packed(11));
    }, /expected 12 packed elements/);
    await expectRejected(svc, async (c) => {
      await c.send(req(leanHeader));
      await c.send({ type: MsgType.Shares, opId: 1, dtype: 'int32', data: new Int32Array(12) });
    }, /expected an int24 \(packed\) tensor/);
    await expectRejected(svc, async (c) => {
      await c.send(req(leanHeader));
      await c.send(packed(12, HALF + 1));
    }, /outside the centred range/);
  });

  it('relays a well-formed op to worker 1 and keeps the operands for later ops of the step', async () => {
    const { svc, relayed } = await leanWorker0();
    const { client, served } = await pair(svc);
    await client.send(req(leanHeader));
    await client.send(packed(12, 5));
    await client.send(packed(6, -7));
    const hdr = await relayed.expect(MsgType.OpRequest, { opId: 1, timeoutMs: 5000 });
    assert.deepEqual(hdr.dtype === 'json' ? hdr.value : null, leanHeader, 'the header as received');
    for (const n of [12, 6]) {
      const m = await relayed.expect(MsgType.Shares, { opId: 1, timeoutMs: 5000 });
      assert.ok(m.dtype === 'int24' && m.data.length === 3 * n, 'E and F relayed packed');
    }
    assert.equal((await relayed.expect(MsgType.Result, { opId: 1, timeoutMs: 5000 })).dims[0], 8, "C0' to worker 1");
    // the next op of the step reuses W (held) with a new X
    const next = { ...leanHeader, attempt: 1, a: { kind: 'W', version: 0, fresh: false }, b: fresh('X', 1) };
    await client.send({ ...req(next), opId: 2 });
    await client.send({ ...packed(6, 1), opId: 2 });
    await relayed.expect(MsgType.OpRequest, { opId: 2, timeoutMs: 5000 });
    const only = await relayed.expect(MsgType.Shares, { opId: 2, timeoutMs: 5000 });
    assert.ok(only.dtype === 'int24' && only.data.length === 18, 'only the fresh X is relayed');
    assert.equal((await relayed.expect(MsgType.Result, { opId: 2, timeoutMs: 5000 })).dims[0], 8);
    await client.send({ type: MsgType.Bye, dtype: 'json', value: {} });
    assert.equal(await served, null);
    assert.equal((await relayed.recv({ timeoutMs: 5000 })).type, MsgType.Bye, 'the goodbye is passed on to worker 1');
  });
});
