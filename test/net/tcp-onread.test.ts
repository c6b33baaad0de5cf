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
