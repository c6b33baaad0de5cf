/**
 * launchLocalCluster's argument checks run before anything is spawned or written:
 * a replicated launch without the replica command must not leave worker processes
 * or a key directory behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { launchLocalCluster } from '../../src/roles/launcher.js';

describe('launchLocalCluster', () => {
  it('rejects a replicated launch without replicaArgs before writing keys or spawning workers', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'goten-launcher-test-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch; // os.tmpdir() reads it on every call
    try {
      await assert.rejects(launchLocalCluster({ topology: 'replicated', transport: 'tcp', backend: 'js', stderr: 'ignore' }), /replicaArgs/);
      assert.deepEqual(readdirSync(scratch), [], 'no key directory may be left behind');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('launchLocalCluster stop()', () => {
  it('kills a stalled (SIGSTOPped) worker instead of waiting for it forever, and removes the key directory', async () => {
    const cluster = await launchLocalCluster({ topology: 'single', transport: 'tcp', backend: 'js', stderr: 'ignore', workers: 2 });
    const stalled = cluster.children[0];
    try {
      stalled.kill('SIGSTOP'); // a stopped process leaves SIGTERM pending until it continues
      const t0 = Date.now();
      const outcome = await Promise.race([
        cluster.stop({ graceMs: 300 }).then(() => 'stopped'),
        new Promise((r) => setTimeout(() => r('still waiting'), 8000).unref()),
      ]);
      assert.equal(outcome, 'stopped', 'stop() must not wait on a stopped child');
      assert.ok(Date.now() - t0 < 8000);
      for (const c of cluster.children) assert.ok(c.exitCode !== null || c.signalCode !== null, 'every child has exited');
      assert.throws(() => readdirSync(cluster.dir), /ENOENT/, 'the key directory is removed');
    } finally {
      for (const c of cluster.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  });
});
