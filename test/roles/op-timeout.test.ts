/**
 * `--op-timeout`: a local secure run whose worker stalls stops after the op timeout with an error that
 * names the worker and the op, and the process exits (its clean-up does not wait on the stopped worker,
 * issue 11).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnGoten } from '../cli.js';
import { childWith } from './recovery-rig.js';


describe('--op-timeout', () => {
  it('a stalled worker ends the run with an error naming the worker and the op, and the process exits', async () => {
    const args = ['train', '--mode', 'secure', '--local-below', '0', '--backend', 'js', '--transport', 'tcp', '--data', 'synthetic:1x8x8:3',
      '--limit-train', '4096', '--limit-test', '64', '--batch', '8', '--epochs', '1', '--op-timeout', '2', '--no-guard',
      // without recovery (launcher-recovery.test.ts: the launcher restarts the stalled worker)
      '--reconnect-timeout', '0'];
    const child = spawnGoten(args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let stalled: number | undefined;
    try {
      while (!stderr.includes('training ')) {
        if (child.exitCode !== null) assert.fail(`goten train ended early: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1000)); // some steps run
      stalled = childWith(child.pid!, ['worker', 'w1']);
      assert.ok(stalled, 'worker w1 runs as a child process');
      process.kill(stalled, 'SIGSTOP');
      const t0 = Date.now();
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 40_000).unref())]);
      assert.equal(code, 1, `exit status; stderr: ${stderr.slice(-800)}`);
      assert.match(stderr, /goten: .*worker 1 \(w1\) failed during op \d+: no message from w1 within 2000 ms/);
      assert.ok(Date.now() - t0 < 40_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (stalled) try { process.kill(stalled, 'SIGKILL'); } catch { /* already gone */ }
    }
  });
});
