/**
 * A local cluster (no --cluster: roles/launcher.ts starts the workers) recovers by itself: a worker
 * killed with SIGKILL is restarted by the launcher on its port, a stalled one (SIGSTOP) is killed and
 * restarted once the enclave's op timeout gives up on it; `goten train` finishes with exit 0 and
 * exactly the numbers of an uninterrupted run (the quantized reference, bit-identical to it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Watched, goten, spawnGoten } from '../cli.js';
import { TRAIN, childWith, outcome } from './recovery-rig.js';

// 16 steps: long enough that the fault lands mid-run
const RUN = TRAIN.map((a) => (a === '256' ? '512' : a));

async function localRun(protocol: 'lean' | 'goten', party: string, signal: 'SIGKILL' | 'SIGSTOP'): Promise<Watched> {
  const train = new Watched(
    spawnGoten(['train', '--mode', 'secure', '--transport', 'tcp', '--protocol', protocol, '--op-timeout', '3', ...RUN], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  try {
    // the session is up once the run announces itself
    while (!/^training /m.test(train.stderr)) {
      if (train.child.exitCode !== null) assert.fail(`goten train ended early: ${train.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // a few of the 16 steps run
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(train.child.exitCode, null, `still training: ${train.stderr}`);
    const pid = childWith(train.child.pid!, ['worker', party]);
    assert.ok(pid, `worker ${party} runs as a child process`);
    process.kill(pid, signal);
    await Promise.race([train.done, new Promise((r) => setTimeout(r, 200_000).unref())]);
    return train;
  } finally {
    if (train.child.exitCode === null && train.child.signalCode === null) train.child.kill('SIGKILL');
  }
}

describe('local cluster: the launcher restarts a lost worker', { timeout: 300_000 }, () => {
  const reference = goten(['train', '--mode', 'quantized', ...RUN], { timeoutMs: 120_000 });

  it('lean: w1 killed (SIGKILL) mid-run is restarted; exit 0 with the uninterrupted numbers', async () => {
    const r = await localRun('lean', 'w1', 'SIGKILL');
    assert.equal(r.child.exitCode, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /w1 exited with SIGKILL; restarting it on its port \(restart 1 of 5\)/);
    assert.match(r.stderr, /reconnected after [\d.]+ s \(attempt \d+\)/);
    assert.equal(reference.status, 0, reference.stderr);
    assert.deepEqual(outcome(r.stdout), outcome(reference.stdout));
  });

  it('goten: w0 stalled (SIGSTOP) is killed and restarted after --op-timeout; exit 0 with the same numbers', async () => {
    const r = await localRun('goten', 'w0', 'SIGSTOP');
    assert.equal(r.child.exitCode, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /w0 lost \(no message from w0 within 3000 ms\)/);
    assert.match(r.stderr, /w0 exited with SIGKILL; restarting it on its port/);
    assert.deepEqual(outcome(r.stdout), outcome(reference.stdout));
  });
});
