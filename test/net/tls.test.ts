import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { generateIdentity, publicKeyToText, tlsCredentials } from '../../src/net/identity.js';
import { MsgType } from '../../src/net/message-types.js';
import { tlsTransport } from '../../src/net/tls.js';
import { AuthenticationError } from '../../src/net/transport.js';
import { selfSignedCertificateDer } from '../../src/net/x509.js';
import { rawFromSocket } from './raw-clients.js';
import { runTransportConformance } from './transport-conformance.js';

const w0 = generateIdentity('w0');
const e0 = generateIdentity('e0');
const pinned = { w0: w0.publicKeyText, e0: e0.publicKeyText };

runTransportConformance('tls', async ({ maxFrameBytes, pool }) => {
  const server = tlsTransport({ identity: w0, peers: pinned });
  const client = tlsTransport({ identity: e0, peers: pinned });
  const listener = await server.listen({ maxFrameBytes, pool });
  const { key, cert } = tlsCredentials(e0);
  return {
    listener,
    connect: () => client.connect({ host: listener.host, port: listener.port, peer: 'w0', maxFrameBytes, pool }),
    connectRaw: () =>
      new Promise((resolve, reject) => {
        const s = connect({ host: listener.host, port: listener.port, key, cert, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () =>
          resolve(rawFromSocket(s)),
        );
        s.once('error', reject);
      }),
    close: () => listener.close(),
  };
});

describe('tls pinning', () => {
  it('builds a self-signed Ed25519 certificate that node:crypto parses and verifies', () => {
    const der = selfSignedCertificateDer(w0.privateKey, w0.publicKey, 'goten-w0');
    const x = new X509Certificate(der);
    assert.equal(x.subject, 'CN=goten-w0');
    assert.ok(x.verify(w0.publicKey));
    assert.ok(x.publicKey.equals(w0.publicKey));
    assert.equal(x.ca, false);
    assert.deepEqual(selfSignedCertificateDer(w0.privateKey, w0.publicKey, 'goten-w0'), der, 'deterministic');
  });

  it('authenticates both sides by pinned key; the connection knows who the peer is', async () => {
    const l = await tlsTransport({ identity: w0, peers: pinned }).listen();
    const c = await tlsTransport({ identity: e0, peers: pinned }).connect({ host: l.host, port: l.port, peer: 'w0' });
    const s = await l.accept();
    assert.equal(s.peer, 'e0');
    assert.equal(s.peerPublicKey, e0.publicKeyText);
    assert.equal(c.peer, 'w0');
    assert.equal(c.peerPublicKey, w0.publicKeyText);
    await c.send({ type: MsgType.Ping, dtype: 'json', value: 'x' });
    assert.equal((await s.expect(MsgType.Ping)).dtype, 'json');
    await c.close();
    await l.close();
  });

  it('rejects a client whose key is not pinned, and keeps serving pinned clients', async () => {
    const errors: Error[] = [];
    const l = await tlsTransport({ identity: w0, peers: pinned }).listen({ onError: (e) => errors.push(e) });
    const intruder = generateIdentity('e0'); // claims to be e0 with another key
    await assert.rejects(
      tlsTransport({ identity: intruder, peers: pinned }).connect({ host: l.host, port: l.port, peer: 'w0' }),
      (e: Error) => e instanceof AuthenticationError && /rejected this party/.test(e.message),
    );
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof AuthenticationError);
    assert.match(errors[0].message, new RegExp(`its key \\(${intruder.publicKeyText}\\) is not pinned`));
    const c = await tlsTransport({ identity: e0, peers: pinned }).connect({ host: l.host, port: l.port, peer: 'w0' });
    const s = await l.accept({ timeoutMs: 5000 });
    assert.equal(s.peer, 'e0');
    await c.close();
    await l.close();
  });

  it('rejects a server whose key is not the one pinned for the expected party', async () => {
    const impostor = generateIdentity('w0');
    const l = await tlsTransport({ identity: impostor, peers: pinned }).listen();
    await assert.rejects(
      tlsTransport({ identity: e0, peers: pinned }).connect({ host: l.host, port: l.port, peer: 'w0' }),
      (e: Error) =>
        e instanceof AuthenticationError && e.message.includes(publicKeyToText(impostor.publicKey)) && e.message.includes(w0.publicKeyText),
    );
    // Expecting another party than the one listening is rejected the same way.
    const real = await tlsTransport({ identity: w0, peers: pinned }).listen();
    await assert.rejects(
      tlsTransport({ identity: e0, peers: { ...pinned, w1: generateIdentity('w1').publicKeyText } }).connect({ host: real.host, port: real.port, peer: 'w1' }),
      AuthenticationError,
    );
    await assert.rejects(tlsTransport({ identity: e0, peers: pinned }).connect({ host: real.host, port: real.port }), /needs opts.peer/);
    await l.close();
    await real.close();
  });

  it('only accepts the parties listed in acceptPeers', async () => {
    const w1 = generateIdentity('w1');
    const peers = { ...pinned, w1: w1.publicKeyText };
    const l = await tlsTransport({ identity: w0, peers }).listen({ acceptPeers: ['e0'] });
    await assert.rejects(tlsTransport({ identity: w1, peers }).connect({ host: l.host, port: l.port, peer: 'w0' }), AuthenticationError);
    await l.close();
  });
});
