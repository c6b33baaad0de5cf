/**
 * Raw byte clients for the conformance suite: a plain socket (tcp, tls) or an
 * in-memory ByteChannel (inproc 'wire' mode).
 */
import type { Socket } from 'node:net';
import type { ByteChannel } from '../../src/net/stream.js';
import type { RawClient } from './transport-conformance.js';

export function rawFromSocket(sock: Socket): RawClient {
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  return {
    write: (bytes) => new Promise((resolve, reject) => sock.write(bytes, (err) => (err ? reject(err) : resolve()))),
    end: () => sock.end(),
    destroy: () => sock.destroy(),
    received: () => Buffer.concat(chunks),
    closed,
  };
}

export function rawFromChannel(ch: ByteChannel): RawClient {
  const chunks: Buffer[] = [];
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  ch.start({ data: (d) => chunks.push(Buffer.from(d)), end: () => ch.end(), close: () => done() });
  return {
    write: (bytes) => new Promise((resolve, reject) => ch.write([bytes], (err) => (err ? reject(err) : resolve()))),
    end: () => ch.end(),
    destroy: () => ch.destroy(),
    received: () => Buffer.concat(chunks),
    closed,
  };
}
