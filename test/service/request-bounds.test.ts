/**
 * The service checks the session named in the headers before reading a body, and bounds the encrypted
 * requests it reads at once (issue 11: parallel 60 MiB bodies were read and parsed before any check).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createModeExecutor } from '../../src/modes/executors.js';
import { type RunningService, startService } from '../../src/service/server.js';
import { quietProvider, tempDir, tinyCheckpoint } from './helpers.js';

/** Sends only the headers of a POST (and no body); resolves with the first reply chunk, or 'no reply'. */
function headersOnly(port: number, headers: Record<string, string>, waitMs: number): { reply: Promise<string>; sock: Socket } {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  sock.write(`POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\n${lines}\r\n`);
  const reply = new Promise<string>((resolve) => {
    sock.once('data', (d: Buffer) => resolve(d.toString()));
    setTimeout(() => resolve('no reply'), waitMs).unref();
  });
  return { reply, sock };
}

describe('service request bounds', () => {
  const dir = tempDir();
  let svc: RunningService;
  const open: Socket[] = [];
  before(async () => {
    svc = await startService({
      provider: quietProvider(dir), mode: 'plain', modelBytes: readFileSync(await tinyCheckpoint(dir)), log: () => {},
      inFlight: { maxRequests: 2 },
      makeExecutor: (mode, seed) => createModeExecutor({ mode, backend: 'js', seed }),
    });
  });
  after(async () => {
    for (const s of open) s.destroy();
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unknown session named in the headers before reading a 60 MiB body', async () => {
    const r = headersOnly(svc.port, { 'content-length': String(60 << 20), 'x-goten-session': Buffer.alloc(16, 7).toString('base64url') }, 3000);
    open.push(r.sock);
    assert.match(await r.reply, /^HTTP\/1.1 401/);
    assert.match(await r.reply, /UNKNOWN_SESSION/);
  });

  it('limits a request that names no session to a small body', async () => {
    const r = headersOnly(svc.port, { 'content-length': String(60 << 20) }, 3000);
    open.push(r.sock);
    assert.match(await r.reply, /^HTTP\/1.1 413/);
    assert.match(await r.reply, /x-goten-session/);
  });

  it('answers 503 BUSY beyond the concurrent-request bound, and serves again once they end', async () => {
    const slow = [0, 1].map(() => headersOnly(svc.port, { 'content-length': '1000' }, 500)); // bodies that never come
    open.push(...slow.map((s) => s.sock));
    await new Promise((r) => setTimeout(r, 200));
    const third = headersOnly(svc.port, { 'content-length': '1000' }, 3000);
    open.push(third.sock);
    assert.match(await third.reply, /^HTTP\/1.1 503/);
    assert.match(await third.reply, /BUSY/);
    for (const s of slow) s.sock.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const fourth = headersOnly(svc.port, { 'content-length': '60' }, 3000);
    open.push(fourth.sock);
    fourth.sock.write(Buffer.alloc(60));
    assert.match(await fourth.reply, /^HTTP\/1.1 400/, 'served again (a malformed envelope, answered)');
  });
});
