import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { it } from 'node:test';
import { MsgType } from '../../src/net/message-types.js';
import { tcpTransport } from '../../src/net/tcp.js';
import { rawFromSocket } from './raw-clients.js';
import { runTransportConformance } from './transport-conformance.js';

runTransportConformance('tcp', async ({ maxFrameBytes, pool }) => {
  const t = tcpTransport();
  const listener = await t.listen({ host: '127.0.0.1', port: 0, maxFrameBytes, pool });
  return {
    listener,
    connect: () => t.connect({ host: listener.host, port: listener.port, maxFrameBytes, pool }),
    connectRaw: () =>
      new Promise((resolve, reject) => {
        const s = connect({ host: listener.host, port: listener.port, noDelay: true }, () => resolve(rawFromSocket(s)));
        s.once('error', reject);
      }),
    close: () => listener.close(),
  };
});

it('tcp: a refused connection is a clear error', async () => {
  const t = tcpTransport();
  const l = await t.listen();
  const port = l.port;
  await l.close();
  await assert.rejects(
    t.connect({ host: '127.0.0.1', port, timeoutMs: 2000 }),
    (e: Error) => /cannot connect to 127\.0\.0\.1/.test(e.message) && (e as { code?: string }).code === 'ECONNREFUSED',
  );
});

it('tcp: a slow reader pauses the socket and loses nothing (maxQueuedBytes)', async () => {
  const t = tcpTransport();
  const l = await t.listen({ maxQueuedBytes: 256 * 1024 });
  const c = await t.connect({ host: l.host, port: l.port });
  const s = await l.accept();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 64; i++) sends.push(c.send({ type: MsgType.Data, opId: i, dtype: 'int32', data: new Int32Array(16384).fill(i) }));
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 64; i++) {
    const m = await s.recv();
    assert.ok(m.opId === i && m.dtype === 'int32' && m.data[16383] === i);
    m.release();
  }
  await Promise.all(sends);
  await c.close();
  await l.close();
});

it('tcp: connections nobody accepts are bounded (extra ones are refused, not piled up)', async () => {
  const { MAX_PENDING_CONNECTIONS } = await import('../../src/net/listener.js');
  const t = tcpTransport();
  const l = await t.listen();
  const extra = 4;
  const clients = await Promise.all(
    Array.from({ length: MAX_PENDING_CONNECTIONS + extra }, () => t.connect({ host: l.host, port: l.port, timeoutMs: 5000 })),
  );
  try {
    // the server refuses the connections beyond the limit: exactly `extra` clients see their connection end
    let ended = 0;
    for (const c of clients) void c.closed.then(() => ended++);
    const deadline = Date.now() + 5000;
    while (ended < extra && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(ended, extra);
    for (let i = 0; i < MAX_PENDING_CONNECTIONS; i++) (await l.accept({ timeoutMs: 2000 })).destroy();
    await assert.rejects(l.accept({ timeoutMs: 100 }), /no connection accepted/);
  } finally {
    for (const c of clients) c.destroy();
    await l.close();
  }
});
