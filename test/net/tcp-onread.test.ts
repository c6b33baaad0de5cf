/**
 * Client TCP connections read through one reused buffer (net/stream.ts ReadSink,
 * node:net `onread`): frames that span many reads, a slow reader that pauses the
 * socket (maxQueuedBytes), and data that arrives right after connecting all come
 * through intact and in order.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MsgType } from '../../src/net/message-types.js';
import { tcpTransport } from '../../src/net/tcp.js';

it('tcp client reads: large frames, a paused slow reader and an immediate greeting lose nothing', async () => {
  const t = tcpTransport();
  const l = await t.listen();
  const accepted = l.accept().then(async (s) => {
    await s.send({ type: MsgType.Control, dtype: 'json', value: { hello: true } }); // sent at once
    for (let i = 0; i < 48; i++) await s.send({ type: MsgType.Result, opId: i, dtype: 'int32', data: new Int32Array(200_003).fill(i - 24) });
    return s;
  });
  const c = await t.connect({ host: l.host, port: l.port, maxQueuedBytes: 256 * 1024 });
  await new Promise((r) => setTimeout(r, 100)); // let the server run ahead: the client pauses its socket
  const hello = await c.recv();
  assert.deepEqual(hello.dtype === 'json' ? hello.value : null, { hello: true });
  for (let i = 0; i < 48; i++) {
    const m = await c.recv();
    assert.ok(m.opId === i && m.dtype === 'int32' && m.data.length === 200_003);
    assert.ok(m.data[0] === i - 24 && m.data[200_002] === i - 24 && m.data[100_000] === i - 24);
    m.release();
  }
  const s = await accepted;
  await c.close();
  await s.close();
  await l.close();
});

it('tcp client reads straight into large payloads: every byte lands in place, frames of every size in between', async () => {
  const t = tcpTransport();
  const l = await t.listen();
  const sizes = [3, 70_000, 16_384, 1_000_003, 17, 65_536, 300_001];
  const content = (i: number, n: number) => Int32Array.from({ length: n }, (_, j) => (Math.imul(j + 1, 2654435761) ^ i) | 0);
  const accepted = l.accept().then(async (s) => {
    for (let r = 0; r < 3; r++) for (const [i, n] of sizes.entries()) await s.send({ type: MsgType.Result, opId: r * 10 + i, dtype: 'int32', data: content(r * 10 + i, n) });
    return s;
  });
  const c = await t.connect({ host: l.host, port: l.port });
  for (let r = 0; r < 3; r++) {
    for (const [i, n] of sizes.entries()) {
      const m = await c.recv();
      assert.equal(m.opId, r * 10 + i);
      assert.ok(m.dtype === 'int32');
      assert.deepEqual(m.data, content(r * 10 + i, n), `frame ${m.opId} of ${n} elements`);
      m.release();
    }
  }
  const s = await accepted;
  await c.close();
  await s.close();
  await l.close();
});
