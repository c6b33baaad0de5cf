/**
 * Receive limits that a server can raise once a peer has authenticated: a
 * worker accepts connections with small frame and queue limits (roles/worker.ts
 * PRE_AUTH_LIMITS) so that an unauthenticated peer cannot make it reserve large
 * buffers, and raises them after the session handshake.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/net/identity.js';
import { MsgType } from '../../src/net/message-types.js';
import { tcpTransport } from '../../src/net/tcp.js';
import { tlsTransport } from '../../src/net/tls.js';
import type { Transport } from '../../src/net/transport.js';
import { PRE_AUTH_LIMITS } from '../../src/roles/worker.js';

const w0 = generateIdentity('w0');
const e0 = generateIdentity('e0');
const pinned = { w0: w0.publicKeyText, e0: e0.publicKeyText };

const cases: [string, Transport, Transport][] = [
  ['tcp', tcpTransport(), tcpTransport()],
  ['tls', tlsTransport({ identity: w0, peers: pinned }), tlsTransport({ identity: e0, peers: pinned })],
];

describe('receive limits raised after authentication', () => {
  for (const [name, server, client] of cases) {
    it(`${name}: a frame over the pre-authentication limit closes the connection`, async () => {
      const l = await server.listen({ host: '127.0.0.1', port: 0, ...PRE_AUTH_LIMITS });
      const c = await client.connect({ host: l.host, port: l.port, peer: 'w0' });
      const s = await l.accept();
      await c.send({ type: MsgType.Test, dtype: 'int32', data: new Int32Array(PRE_AUTH_LIMITS.maxFrameBytes / 4 + 1) }).catch(() => {});
      await assert.rejects(s.recv({ timeoutMs: 5000 }), /OVERSIZED/);
      await l.close();
      c.destroy();
    });

    it(`${name}: after setReceiveLimits a large frame is received`, async () => {
      const l = await server.listen({ host: '127.0.0.1', port: 0, ...PRE_AUTH_LIMITS });
      const c = await client.connect({ host: l.host, port: l.port, peer: 'w0' });
      const s = await l.accept();
      assert.equal(typeof s.setReceiveLimits, 'function');
      s.setReceiveLimits!({ maxFrameBytes: 64 << 20, maxQueuedBytes: 256 << 20 });
      const big = new Int32Array(1 << 20).fill(7);
      await c.send({ type: MsgType.Test, dtype: 'int32', data: big });
      const m = await s.recv({ timeoutMs: 10_000 });
      assert.equal(m.dtype, 'int32');
      assert.equal(m.dims[0], big.length);
      m.release();
      await c.close();
      await s.close();
      await l.close();
    });
  }
});
