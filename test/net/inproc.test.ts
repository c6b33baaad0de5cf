import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InprocNetwork, inprocTransport } from '../../src/net/inproc.js';
import { MsgType } from '../../src/net/message-types.js';
import { rawFromChannel } from './raw-clients.js';
import { runTransportConformance } from './transport-conformance.js';

for (const mode of ['wire', 'copy', 'share'] as const) {
  runTransportConformance(`inproc (${mode})`, async ({ maxFrameBytes, pool }) => {
    const t = inprocTransport(mode, new InprocNetwork());
    const listener = await t.listen({ host: 'test', port: 0, maxFrameBytes, pool });
    return {
      listener,
      connect: () => t.connect({ host: 'test', port: listener.port, maxFrameBytes, pool }),
      connectRaw: mode === 'wire' ? async () => rawFromChannel(await t.connectRaw('test', listener.port)) : undefined,
      close: () => listener.close(),
    };
  });
}

it('inproc copy mode: the receiver never shares memory with the sender', async () => {
  const t = inprocTransport('copy', new InprocNetwork());
  const l = await t.listen();
  const c = await t.connect({ host: l.host, port: l.port });
  const s = await l.accept();
  const data = new Int32Array([1, 2, 3]);
  await c.send({ type: MsgType.Data, dtype: 'int32', data });
  data[0] = 99;
  const m = await s.recv();
  assert.ok(m.dtype === 'int32' && m.data[0] === 1);
  await c.close();
  await assert.rejects(t.connect({ host: 'nowhere', port: 1 }), /nothing listens/);
});
