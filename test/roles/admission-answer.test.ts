/**
 * The enclave waits for each worker's {kind:'admitted'} (src/roles/admission.ts) before it sends anything
 * past the hello and seeds: a worker reads frames under its 64 KiB pre-authentication limit until it has
 * admitted the connection, so a large op frame sent right behind the seeds (an op retried at once after a
 * recovery) would be dropped as OVERSIZED. Fake workers here complete the set-up, hold their answer back
 * and check that nothing else arrives meanwhile; the session must not open before the last answer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listenAsParty, transportFor, writeLocalCluster } from '../../src/net/cluster.js';
import { loadClusterConfig, loadLocalIdentity, partyConfig } from '../../src/net/cluster-config.js';
import { MsgType } from '../../src/net/message-types.js';
import { TimeoutError } from '../../src/net/transport.js';
import { performHandshake } from '../../src/protocol/key-schedule.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { freePort } from '../../src/roles/launcher.js';
import { ADMITTED } from '../../src/roles/admission.js';
import { SESSION_CONTEXT, openEnclaveSession } from '../../src/roles/session.js';

const HOLD_MS = 400;

describe('the admission answer', () => {
  it('the enclave sends nothing past hello and seeds, and opens no session, before every worker admitted it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goten-admitted-'));
    try {
      const ports: number[] = [];
      for (let i = 0; i < 4; i++) ports.push(await freePort());
      const config = loadClusterConfig(writeLocalCluster(dir, { transport: 'tcp', ports }));
      const answeredAt: number[] = [];
      const early: string[] = [];
      // a fake worker: AKE, hello, seeds (from e0), then a pause in which nothing more may come, then the answer
      const fake = async (w: 0 | 1 | 2) => {
        const name = `w${w}` as const;
        const identity = loadLocalIdentity(config, name);
        const l = await listenAsParty(transportFor(config, identity), config, name, {});
        const conn = await l.accept({ timeoutMs: 10_000 });
        void l.close().catch(() => {}); // resolves only once the connection has ended
        await performHandshake(conn, { self: identity, expectedPeer: partyConfig(config, 'e0').publicKey, role: 'responder', context: SESSION_CONTEXT });
        (await conn.expect(MsgType.Control, { timeoutMs: 5000 })).release();
        (await conn.expect(MsgType.SeedBundle, { timeoutMs: 5000 })).release();
        await new Promise((r) => setTimeout(r, HOLD_MS));
        const more = await conn.recv({ timeoutMs: 1 }).then(
          (m) => (m.release(), `type ${m.type}`),
          (err) => (err instanceof TimeoutError ? null : String(err)),
        );
        if (more !== null) early.push(`${name}: ${more}`);
        await conn.send({ type: MsgType.Control, dtype: 'json', value: ADMITTED });
        answeredAt[w] = Date.now();
        return conn;
      };
      const workers = Promise.all([fake(0), fake(1), fake(2)]);
      const exec = await openEnclaveSession({ config, self: 'e0', identity: loadLocalIdentity(config, 'e0'), noiseKey: noiseKeyFromSeed(3), connectTimeoutMs: 10_000, reconnectTimeoutMs: 0 });
      const openedAt = Date.now();
      const conns = await workers;
      assert.deepEqual(early, [], 'frames sent before the admission answer');
      assert.equal(answeredAt.length, 3);
      assert.ok(answeredAt.every((t) => t <= openedAt), `session opened at ${openedAt}, answers at ${answeredAt.join(', ')}`);
      for (const c of conns) c.destroy();
      await exec.close().catch(() => {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
