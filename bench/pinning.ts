/**
 * CPU pinning for `goten bench step`: the enclave (this process, every thread) on CPU 0 and the
 * worker processes on the other CPUs, so that on one machine the enclave's CPU time is its own
 * work rather than the cost of sharing a core and its caches with three workers' GEMMs — closer to
 * a deployment, where the workers run on other machines. Uses util-linux `taskset`; where it is
 * missing, or the machine has a single CPU, nothing is pinned and the result says so.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** CPU list of the enclave process, e.g. "0". */
  readonly enclave: string;
  /** CPU list for the worker processes, e.g. "1" or "1-7". */
  readonly workers: string;
}

function taskset(args: string[]): boolean {
  const r = spawnSync('taskset', args, { stdio: 'ignore' });
  return r.status === 0;
}

/** Pins this process to CPU 0 and returns the workers' CPUs; null when it cannot (one CPU, no taskset). */
export function pinEnclave(): Pinning | null {
  const n = availableParallelism();
  if (n < 2 || !taskset(['-a', '-p', '-c', '0', String(process.pid)])) return null;
  return { enclave: '0', workers: n === 2 ? '1' : `1-${n - 1}` };
}

/** Undoes pinEnclave (every CPU again). */
export function unpinEnclave(): void {
  const n = availableParallelism();
  taskset(['-a', '-p', '-c', `0-${n - 1}`, String(process.pid)]);
}
