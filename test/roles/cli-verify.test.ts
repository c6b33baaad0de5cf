/**
 * Verified products from the command line (docs/protocol.md, Verification): a hand-started cluster (a
 * cluster config, three `goten worker` processes, one of them with `--inject-fault corrupt:<op>`) and
 * `goten train --mode secure --cluster … --verify all`: the run stops with a non-zero exit and a message
 * naming the op and the culprit; the worker's log says loudly that it injected the fault.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeLocalCluster } from '../../src/net/cluster.js';
import { freePort } from '../../src/roles/launcher.js';
import { spawnGoten, Watched } from '../cli.js';

const goten = (args: string[]) => new Watched(spawnGoten(args, { stdio: ['ignore', 'ignore', 'pipe'] }));

/** A hand-started cluster with `--inject-fault <fault>` on worker `culprit`, and one secure epoch against it. */
async function faultyRun(protocol: 'lean' | 'goten', culprit: number, fault: string, extra: string[] = ['--verify', 'all']): Promise<{ code: number | null; stderr: string; workerLog: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'goten-verify-'));
  const workers: ReturnType<typeof goten>[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    const config = writeLocalCluster(dir, { transport: 'tcp', ports });
    for (const w of [0, 1, 2]) {
      workers.push(goten(['worker', '--config', config, '--party', String(w), '--once', '--backend', 'js', ...(w === culprit ? ['--inject-fault', fault] : [])]));
    }
    const train = goten(['train', '--mode', 'secure', '--local-below', '0', '--cluster', config, '--party', 'e0', '--protocol', protocol, ...extra,
      '--model', 'mnist-cnn', '--limit-train', '64', '--limit-test', '32', '--batch', '32', '--epochs', '1', '--backend', 'js', '--json']);
    const code = await train.done;
    // a stalled worker never exits by itself: its log so far is what there is
    await Promise.race([workers[culprit]!.done, new Promise((res) => setTimeout(res, 5000))]);
    return { code, stderr: train.stderr, workerLog: workers[culprit]!.stderr };
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('goten worker --inject-fault with goten train --verify all', { timeout: 240_000 }, () => {
  it('lean: a corrupted result stops the run, naming the op and worker 0', async () => {
    const r = await faultyRun('lean', 0, 'corrupt:3');
    assert.notEqual(r.code, 0, 'non-zero exit');
    assert.match(r.stderr, /verification failed at layer \S+, (forward|grad-input|grad-weight): worker w0's result C0' failed verification; the step was not applied/);
    assert.match(r.workerLog, /FAULT INJECTION ARMED/);
    assert.match(r.workerLog, /FAULT INJECTED: added 1 to element 0 of the result of op 3/);
  });

  it('goten: a corrupted result names worker 1', async () => {
    const r = await faultyRun('goten', 1, 'corrupt:2');
    assert.notEqual(r.code, 0, 'non-zero exit');
    assert.match(r.stderr, /verification failed at layer \S+, forward: worker w1's result C1' failed verification/);
  });
});

describe('goten worker --inject-fault stall and crash: the run ends with a clear error, not a hang', { timeout: 240_000 }, () => {
  it('a stalled worker 0 (SIGSTOP) ends the run after --op-timeout', async () => {
    const t0 = Date.now();
    // recovery (cli-recovery.test.ts) waits at most --reconnect-timeout for the stalled worker, then stops
    const r = await faultyRun('lean', 0, 'stall:3', ['--op-timeout', '2', '--reconnect-timeout', '2']);
    assert.notEqual(r.code, 0, 'non-zero exit');
    // lean: the enclave waits on worker w1's aggregate, which waits on worker 0
    assert.match(r.stderr, /no message from w\d within 2000 ms/);
    assert.match(r.workerLog, /FAULT INJECTED: stalling \(SIGSTOP\) at op 3/);
    assert.ok(Date.now() - t0 < 120_000, 'ended well before the test timeout');
  });

  it('a crashed worker 1 (SIGKILL) ends the run with an error naming it', async () => {
    const r = await faultyRun('goten', 1, 'crash:2', ['--reconnect-timeout', '2']);
    assert.notEqual(r.code, 0, 'non-zero exit');
    assert.match(r.stderr, /worker 1 \(w1\) failed during op \d+: w1 closed the connection; w1 did not come back within 2 s/);
    assert.match(r.workerLog, /FAULT INJECTED: crashing \(SIGKILL\) at op 2/);
  });
});
