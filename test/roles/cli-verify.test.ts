/**
 * Verified products from the command line (docs/protocol.md, Verification): a hand-started cluster (a
 * cluster config, three `goten worker` processes, one of them with `--inject-fault corrupt:<op>`) and
 * `goten train --mode secure --cluster … --verify all`: the run stops with a non-zero exit and a message
 * naming the op and the culprit; the worker's log says loudly that it injected the fault.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeLocalCluster } from '../../src/net/cluster.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function goten(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, done };
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => res(s)); })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function faultyRun(protocol: 'lean' | 'goten', culprit: number, op: number): Promise<{ code: number | null; stderr: string; workerLog: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'goten-verify-'));
  const workers: ReturnType<typeof goten>[] = [];
  try {
    const config = writeLocalCluster(dir, { transport: 'tcp', ports: await freePorts(4) });
    for (const w of [0, 1, 2]) {
      workers.push(goten(['worker', '--config', config, '--party', String(w), '--once', '--backend', 'js', ...(w === culprit ? ['--inject-fault', `corrupt:${op}`] : [])]));
    }
    const train = goten(['train', '--mode', 'secure', '--cluster', config, '--party', 'e0', '--protocol', protocol, '--verify', 'all',
      '--model', 'mnist-cnn', '--limit-train', '64', '--limit-test', '32', '--batch', '32', '--epochs', '1', '--backend', 'js', '--json']);
    const r = await train.done;
    return { ...r, workerLog: (await Promise.race([workers[culprit].done, new Promise<{ stderr: string }>((res) => setTimeout(() => res({ stderr: '' }), 5000))])).stderr };
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('goten worker --inject-fault with goten train --verify all', { timeout: 240_000 }, () => {
  it('lean: a corrupted result stops the run, naming the op and the aggregate from w1', async () => {
    const r = await faultyRun('lean', 0, 3);
    assert.notEqual(r.code, 0, 'non-zero exit');
    assert.match(r.stderr, /verification failed at layer \S+, (forward|grad-input|grad-weight): the aggregated result S from worker 1 \(covering w0, w1 and w2\) failed verification; the step was not applied/);
    assert.match(r.workerLog, /FAULT INJECTION ARMED/);
    assert.match(r.workerLog, /FAULT INJECTED: added 1 to element 0 of the result of op 3/);
  });

  it('goten: a corrupted result names worker 1', async () => {
    const r = await faultyRun('goten', 1, 2);
    assert.notEqual(r.code, 0, 'non-zero exit');
    assert.match(r.stderr, /verification failed at layer \S+, forward: worker 1's result C1' failed verification/);
  });
});
