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
