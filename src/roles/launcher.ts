/**
 * Starts a cluster on this machine as separate OS processes: writes fresh
 * identity keys and a cluster config into a private temporary directory, and
 * spawns `goten worker` for w0, w1, w2 (and, for the replicated topology, the
 * second enclave replica as a copy of the calling command with `--party e1`).
 * Every party is its own process talking over real loopback sockets (TLS with
 * pinned keys by default).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  /** Supervision lines (a worker died and is restarted). */
  readonly log?: (line: string) => void;
}

/** How often one worker is restarted after it died (the enclave's recovery then reconnects to it). */
export const MAX_RESTARTS = 5;

export interface LaunchedCluster {
  readonly configPath: string;
  readonly dir: string;
  /** Every process started so far (restarted workers included). */
  readonly children: readonly ChildProcess[];
  /** Resolves when every party's last process has exited; rejects if one failed for good. */
  readonly exited: Promise<void>;
  /**
   * The enclave lost `party` (protocol/recovery.ts): a stopped (SIGSTOP) worker process, or, when the
   * enclave's wait timed out and none is stopped, that party's, is killed, so that it is restarted.
   */
  lost(party: string, timedOut: boolean): void;
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
  let stopping = false;
  const current = new Map<string, ChildProcess>();
  // a worker that dies is started again on its port (its supervisor); the replica e1 is not (no recovery there)
  const slots = parties
    .filter((p) => p !== 'e0')
    .map((p) => {
      const args = p === 'e1' ? [...o.replicaArgs!, '--cluster', configPath, '--party', 'e1'] : ['worker', '--config', configPath, '--party', p, '--once', '--backend', o.backend ?? 'auto'];
      return supervised(p, () => {
        const c = start(args, p === 'e1' ? undefined : o.workerCpus);
        current.set(p, c);
        return c;
      }, { restarts: p === 'e1' ? 0 : MAX_RESTARTS, stopping: () => stopping, log: o.log ?? (() => {}) });
    });
  const exited = Promise.all(slots).then(() => undefined);
  exited.catch(() => {}); // observed by callers that care
  // every party's last process gone, whatever its exit status
  const gone = Promise.allSettled(slots);
  const running = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
  return {
    configPath,
    dir,
    children,
    exited,
    lost(party, timedOut) {
      const stopped = [...current.values()].filter((c) => isStopped(c));
      const victims = stopped.length > 0 ? stopped : timedOut && current.has(party) ? [current.get(party)!] : [];
      for (const c of victims) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    },
    async stop(so = {}) {
      stopping = true;
      for (const c of running()) c.kill('SIGTERM');
      await waitAtMost(gone, so.graceMs ?? 2000);
      for (const c of running()) c.kill('SIGKILL');
      await gone;
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

/**
 * One party's processes: `start()` again after a death (a signal or a non-zero exit) up to `restarts`
 * times, unless the cluster is stopping. Resolves when the last one exits with 0; rejects when one
 * fails for good.
 */
async function supervised(
  name: string,
  start: () => ChildProcess,
  o: { restarts: number; stopping: () => boolean; log: (line: string) => void },
): Promise<void> {
  for (let n = 0; ; n++) {
    const c = start();
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      c.once('error', () => resolve({ code: null, signal: null }));
      c.once('exit', (code, signal) => resolve({ code, signal }));
    });
    if (code === 0) return;
    const how = signal ?? `code ${code}`;
    if (o.stopping() || n >= o.restarts) throw new Error(`a cluster process (${name}) exited with ${how}`);
    o.log(`${name} exited with ${how}; restarting it on its port (restart ${n + 1} of ${o.restarts})`);
    await new Promise((r) => setTimeout(r, 200));
    if (o.stopping()) throw new Error(`a cluster process (${name}) exited with ${how}`);
  }
}

/** Whether a child is stopped (SIGSTOP; Linux /proc state T); false where that cannot be read. */
function isStopped(c: ChildProcess): boolean {
  try {
    return c.pid !== undefined && readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T') === true;
  } catch {
    return false;
  }
}
