/**
 * Starts a cluster on this machine as separate OS processes: writes fresh
 * identity keys and a cluster config into a private temporary directory, and
 * spawns `goten worker` for w0, w1, w2 (and, for the replicated topology, the
 * second enclave replica as a copy of the calling command with `--party e1`).
 * Every party is its own process talking over real loopback sockets (TLS with
 * pinned keys by default).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLocalCluster } from '../net/cluster.js';
import { atExit, removeStale } from '../nn/temp-files.js';

export interface LaunchOptions {
  readonly topology: 'single' | 'replicated';
  readonly transport?: 'tls' | 'tcp';
  /** Kernel backend name for the workers. */
  readonly backend?: string;
  /** Arguments of the e1 replica's goten command (replicated topology), without the CLI entry. */
  readonly replicaArgs?: readonly string[];
  /** 3 workers (online) or 2 (offline mode: no w2 in the config, no w2 process). Default 3. */
  readonly workers?: 2 | 3;
  /** Where the children's diagnostic lines go (default: inherited stderr). */
  readonly stderr?: 'inherit' | 'ignore';
  /** Run the worker processes on these CPUs only (a `taskset -c` list, e.g. "1-3"); benchmarks keep them off the enclave's CPU. */
  readonly workerCpus?: string;
}

export interface LaunchedCluster {
  readonly configPath: string;
  readonly dir: string;
  readonly children: readonly ChildProcess[];
  /** Resolves when every child has exited; rejects if one fails. */
  readonly exited: Promise<void>;
  /**
   * Kills what is still running (SIGTERM, then SIGKILL after `graceMs`, default 2 s: a stalled or
   * stopped child ignores SIGTERM) and removes the key directory.
   */
  stop(o?: { graceMs?: number }): Promise<void>;
}

/** Waits for `p` (its rejection ignored), at most `ms`; the timer is cleared either way, so it never keeps the process alive. */
export async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A free TCP port on 127.0.0.1 for a local party (bound and released, so another process could still take
 * it before the party binds it). Drawn at random below Linux's ephemeral range (32768–60999 by default):
 * there the kernel never hands the port to an outgoing connection or a `listen(0)` of another process
 * (which is what took a worker's port in parallel test runs), so only another launcher drawing the same
 * number could collide. Falls back to a kernel-chosen port when none of the draws is free.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

function canListen(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  );
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => resolve(bound));
    });
  });
}

/**
 * Node arguments that start the `goten` command of this code base through its bin script (the package's
 * public entry, bin/goten.js, not a module of the CLI: roles sit below it). The bin runs the compiled
 * dist/ or, with GOTEN_FROM_SOURCE=1 (set in the children's environment), the TypeScript sources
 * through tsx — whichever this module runs from, so parent and children run the same code.
 */
const fromSource = import.meta.url.endsWith('.ts');

export function cliCommand(): string[] {
  const bin = fileURLToPath(new URL(fromSource ? '../../bin/goten.js' : '../../../bin/goten.js', import.meta.url));
  // as bin/goten.js: no idle-time full GCs in a process that waits for its peers most of the time
  return ['--no-memory-reducer', bin];
}

export async function launchLocalCluster(o: LaunchOptions): Promise<LaunchedCluster> {
  // checked before anything is spawned or written: a late throw would orphan the
  // worker processes and leave the private keys in the temporary directory
  if (o.topology === 'replicated' && !o.replicaArgs) throw new Error('the replicated topology needs the replica command (replicaArgs)');
  const workers = ['w0', 'w1', 'w2'].slice(0, o.workers ?? 3) as ('w0' | 'w1' | 'w2')[];
  const parties = [...(o.topology === 'replicated' ? (['e0', 'e1'] as const) : (['e0'] as const)), ...workers];
  // free ports instead of the default consecutive ones (found before the key directory exists)
  const ports: number[] = [];
  for (const _ of parties) ports.push(await freePort());
  // named after this process, so that a later run can tell an abandoned directory (private keys) from a live one
  removeStale(tmpdir(), 'goten-cluster-');
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), `goten-cluster-${process.pid}-`));
  const forget = atExit(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const configPath = writeLocalCluster(dir, { topology: o.topology, transport: o.transport ?? 'tls', parties, ports });
  const node = cliCommand();
  // All parties share this machine's cores: one BLAS thread per process avoids
  // oversubscription; glibc keeps freed buffers instead of returning them to the
  // OS (fresh pages cost ~11 µs each on these VMs, docs/memory.md).
  const env = {
    ...process.env,
    GOTEN_FROM_SOURCE: fromSource ? '1' : '0',
    OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? '1',
    GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296',
  };
  const start = (args: string[], cpus?: string) => {
    const argv = [process.execPath, ...node, ...args];
    const [cmd, ...rest] = cpus ? ['taskset', '-c', cpus, ...argv] : argv;
    const c = spawn(cmd, rest, { stdio: ['ignore', 'ignore', o.stderr ?? 'inherit'], env });
    children.push(c);
    return c;
  };
  for (const w of workers) {
    start(['worker', '--config', configPath, '--party', w, '--once', '--backend', o.backend ?? 'auto'], o.workerCpus);
  }
  if (o.topology === 'replicated') {
    start([...o.replicaArgs!, '--cluster', configPath, '--party', 'e1']);
  }
  const exited = Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve, reject) => {
          c.once('error', reject);
          c.once('exit', (code, signal) =>
            code === 0 ? resolve() : reject(new Error(`a cluster process exited with ${signal ?? `code ${code}`}`)),
          );
        }),
    ),
  ).then(() => undefined);
  exited.catch(() => {}); // observed by callers that care
  // every child gone, whatever its exit status (`exited` rejects at the first failure, before the others end)
  const gone = Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)))));
  const running = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
  return {
    configPath,
    dir,
    children,
    exited,
    async stop(so = {}) {
      for (const c of running()) c.kill('SIGTERM');
      await waitAtMost(gone, so.graceMs ?? 2000);
      for (const c of running()) c.kill('SIGKILL');
      await gone;
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}
