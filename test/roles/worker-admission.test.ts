/**
 * Silent connections must not lock the enclave out of a worker: every connection's session set-up
 * runs concurrently under a deadline, unauthenticated connections are bounded, and a new one always
 * gets a slot (issue 11: 65 silent connections used to block a TCP worker).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startWorkers } from './worker-rig.js';

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms).unref())]);

async function waitFor(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
}

describe('worker admission', () => {
  it('tcp: an enclave opens its session while 65 silent connections are open to w0', async () => {
    const rig = await startWorkers('tcp');
    const silent: Socket[] = [];
    try {
      const w0 = rig.config.parties.w0!;
      for (let i = 0; i < 65; i++) {
        const s = connect({ host: w0.host, port: w0.port });
        s.on('error', () => {});
        silent.push(s);
      }
      await new Promise((r) => setTimeout(r, 300)); // let the worker accept them all
      const exec = await within(rig.enclave(), 6000, 'the enclave session');
      await exec.close();
      await within(waitFor(() => rig.logs.some((l) => /w0: session ended after/.test(l))), 3000, 'w0 ending the session');
      // the silent connections were dropped to make room, not left to pile up
      const closed = silent.filter((s) => s.destroyed || s.readableEnded).length;
      assert.ok(closed > 0, 'silent connections are dropped when the bounds are reached');
    } finally {
      for (const s of silent) s.destroy();
      await rig.stop();
    }
  });

  it('a silent connection is closed once the set-up deadline passes', async () => {
    const rig = await startWorkers('tcp', { admission: { timeoutMs: 300 } });
    try {
      const w0 = rig.config.parties.w0!;
      const s = connect({ host: w0.host, port: w0.port });
      s.on('error', () => {});
      const closed = new Promise<string>((r) => s.once('close', () => r('closed')));
      assert.equal(await Promise.race([closed, new Promise((r) => setTimeout(() => r('open'), 3000).unref())]), 'closed');
      assert.ok(rig.logs.some((l) => /took longer than 300 ms/.test(l)), rig.logs.join('\n'));
    } finally {
      await rig.stop();
    }
  });
});
