/**
 * A client that opens a TCP connection to a TLS listener and never completes the TLS handshake
 * must lose its socket when the handshake times out; otherwise silent clients exhaust the
 * server's file descriptors (issue 11).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/net/identity.js';
import { tlsTransport } from '../../src/net/tls.js';

describe('tls listener: silent clients', () => {
  it('destroys a socket whose TLS handshake timed out', async () => {
    const w0 = generateIdentity('w0');
    const e0 = generateIdentity('e0');
    const errors: Error[] = [];
    const l = await tlsTransport({ identity: w0, peers: { w0: w0.publicKeyText, e0: e0.publicKeyText } }).listen({
      handshakeTimeoutMs: 200,
      onError: (e) => errors.push(e),
    });
    const sock = connect({ host: l.host, port: l.port });
    sock.on('error', () => {});
    try {
      const closed = new Promise<string>((resolve) => sock.once('close', () => resolve('closed')));
      const stillOpen = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 3000).unref());
      assert.equal(await Promise.race([closed, stillOpen]), 'closed', 'the server must close a client that never completes the handshake');
      assert.ok(errors.some((e) => /TLS handshake failed/.test(e.message)), 'the timeout is reported to onError');
    } finally {
      sock.destroy(); // (a server that kept it open would otherwise keep close() waiting)
      await l.close();
    }
  });
});
