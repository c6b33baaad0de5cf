/**
 * Recovery from the command line (issue 11, item 2; docs/net.md, Recovery): in a hand-started cluster
 * worker w1 is killed with SIGKILL mid-training (`--inject-fault crash:<op>`) and restarted on the same
 * port; `goten train --mode secure --cluster … --party e0` re-opens the session with fresh keys, re-runs
 * the op and finishes by itself with exit 0 and exactly the numbers of an uninterrupted run (loss, test
 * loss and accuracies to the last bit), in both protocols. A worker that never comes back ends the run
 * with a clear error after --reconnect-timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterRun, expectedOutcome, outcome } from './recovery-rig.js';

describe('goten train --cluster: a worker killed mid-run and restarted', { timeout: 300_000 }, () => {
  it('lean: w1 dies (SIGKILL) at its op 5 and comes back: exit 0, the uninterrupted run\'s numbers', async () => {
    const clean = await clusterRun({ protocol: 'lean' });
    assert.equal(clean.code, 0, clean.stderr);
    assert.deepEqual(outcome(clean.stdout), expectedOutcome(), 'an uninterrupted secure run matches the quantized reference');
    const r = await clusterRun({ protocol: 'lean', victim: 1, crashAt: 5 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.w1Logs[0] ?? '', /FAULT INJECTED: crashing \(SIGKILL\) at op 5/);
    assert.match(r.stderr, /w1 lost \(w1 closed the connection\) at \S+, (forward|grad-input|grad-weight); opening a new session/);
    assert.match(r.stderr, /reconnected after [\d.]+ s \(attempt \d+\): a new session with fresh keys/);
    assert.deepEqual(outcome(r.stdout), outcome(clean.stdout), 'bit-identical to the uninterrupted run');
  });

  it('goten: w1 dies at its op 9 and comes back after 3 s: exit 0, the same numbers', async () => {
    const r = await clusterRun({ protocol: 'goten', victim: 1, crashAt: 9, restartAfterMs: 3000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /w1 lost \(w1 closed the connection\); reconnecting \(attempt 1 failed: cannot reach w1 at [^;]*ECONNREFUSED[^;]*; next in [\d.]+ s\)/);
    assert.deepEqual(outcome(r.stdout), expectedOutcome());
  });

  it('offline mode (2 workers, lean): w1 dies at its op 7 and comes back: exit 0, the same numbers', async () => {
    const r = await clusterRun({ protocol: 'lean', workers: 2, victim: 1, crashAt: 7 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /reconnected after [\d.]+ s/);
    assert.deepEqual(outcome(r.stdout), expectedOutcome());
  });

  it('a worker that never comes back ends the run after --reconnect-timeout with an error naming it', async () => {
    const t0 = Date.now();
    const r = await clusterRun({ protocol: 'lean', victim: 1, crashAt: 5, restartAfterMs: null, extra: ['--reconnect-timeout', '3'] });
    assert.equal(r.code, 1, r.stderr.slice(-2000));
    assert.match(r.stderr, /goten: worker 1 \(w1\) failed during op \d+: w1 closed the connection; w1 did not come back within 3 s \(--reconnect-timeout; last try: cannot reach w1 at /);
    assert.ok(Date.now() - t0 < 120_000, 'bounded');
  });
});
