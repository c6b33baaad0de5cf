/**
 * A hand-started cluster for the recovery tests: a cluster config on free loopback ports (tcp), three
 * long-running `goten worker` processes (as a supervisor would run them), one of them with
 * `--inject-fault crash:<op>` (it kills itself with SIGKILL at that op) and optionally restarted on the
 * same port once it is gone, and `goten train --mode secure --cluster … --party e0` against them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLocalCluster } from '../../src/net/cluster.js';
import { freePort } from '../../src/roles/launcher.js';
import { Watched, goten, jsonLines, spawnGoten } from '../cli.js';

const start = (args: string[]) => new Watched(spawnGoten(args, { stdio: ['ignore', 'pipe', 'pipe'] }));

/** A small secure training run: 8 steps of mnist-cnn on synthetic data (js backend: no addon needed). */
// --local-below 0: every op outsourced, so a worker fault can strike any layer
export const TRAIN = ['--local-below', '0', '--model', 'mnist-cnn', '--data', 'synthetic:1x28x28:10', '--limit-train', '256', '--limit-test', '64', '--batch', '32', '--epochs', '1', '--backend', 'js', '--json'];

/** The numbers of a run that must not change under recovery (time and throughput do). */
export function outcome(stdout: string): Record<string, unknown>[] {
  return jsonLines(stdout).map(({ seconds: _s, imagesPerSecond: _i, mode: _m, ...rest }) => rest);
}

let reference: Record<string, unknown>[] | null = null;

/**
 * The quantized reference's outcome of TRAIN (run once per test file, on first use): an uninterrupted
 * secure run equals it bit for bit (docs/protocol.md), so every recovered run must too.
 */
export function expectedOutcome(): Record<string, unknown>[] {
  if (!reference) {
    const r = goten(['train', '--mode', 'quantized', ...TRAIN], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    reference = outcome(r.stdout);
  }
  return reference;
}

export interface RecoveryRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every w1 process's log, in order. */
  readonly w1Logs: string[];
}

/**
 * Runs `goten train` against a hand-started cluster whose worker `victim` crashes at its op `crashAt`
 * (none: no fault) and is restarted `restartAfterMs` after it is gone (null: never).
 */
export async function clusterRun(o: {
  protocol: 'lean' | 'goten';
  victim?: number;
  crashAt?: number;
  restartAfterMs?: number | null;
  extra?: string[];
  /** 2: offline mode (no w2). Default 3. */
  workers?: 2 | 3;
}): Promise<RecoveryRun> {
  const n = o.workers ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'goten-recovery-'));
  const procs: Watched[] = [];
  const logs: string[][] = [[], [], []];
  let stopped = false;
  try {
    const ports: number[] = [];
    for (let i = 0; i <= n; i++) ports.push(await freePort());
    const config = writeLocalCluster(dir, { transport: 'tcp', ports, parties: ['e0', 'w0', 'w1', 'w2'].slice(0, n + 1) as ('e0' | 'w0' | 'w1' | 'w2')[] });
    const worker = (w: number, fault: boolean) => {
      const p = start(['worker', '--config', config, '--party', String(w), '--backend', 'js', ...(fault ? ['--inject-fault', `crash:${o.crashAt}`] : [])]);
      procs.push(p);
      void p.done.then(async () => {
        logs[w].push(p.stderr);
        // the supervisor: the crashed worker comes back on its port
        if (!fault || stopped || o.restartAfterMs === null) return;
        await new Promise((r) => setTimeout(r, o.restartAfterMs ?? 500));
        if (!stopped) worker(w, false);
      });
    };
    for (const w of [0, 1, 2].slice(0, n)) worker(w, w === o.victim && o.crashAt !== undefined);
    const train = start(['train', '--mode', 'secure', '--cluster', config, '--party', 'e0', '--protocol', o.protocol, '--workers', String(n), ...(o.extra ?? []), ...TRAIN]);
    const code = await train.done;
    stopped = true;
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.done));
    return { code, stdout: train.stdout, stderr: train.stderr, w1Logs: logs[1] };
  } finally {
    stopped = true;
    for (const p of procs) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pid of `parent`'s child process whose command line contains every one of `words`. */
export function childWith(parent: number, words: readonly string[]): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (ppid === parent && words.every((w) => cmd.includes(w))) return Number(d);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}
