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
