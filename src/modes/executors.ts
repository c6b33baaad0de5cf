/**
 * Mode → LinearExecutor: the one place that knows how each execution mode is
 * built, so that the `goten` command, the enclave service and the benchmarks
 * select modes the same way. It sits above roles (secure mode starts or joins a
 * cluster) and below everything that picks a mode.
 */
import type { Backend } from '../backend/backend.js';
import { backendNames, getBackend, isBackendName } from '../backend/index.js';
import type { LinearExecutor } from '../nn/executor.js';
import { PlainExecutor } from '../nn/plain-executor.js';
import { createQuantizedExecutor } from '../protocol/quantized-executor.js';
import type { ProtocolName } from '../protocol/variant.js';
import type { VerifyMode } from '../protocol/product-verifier.js';
import { createSecureExecutor } from '../roles/secure-setup.js';

export const MODES = ['plain', 'quantized', 'secure'] as const;
export type Mode = (typeof MODES)[number];
export const BACKENDS = backendNames;

export interface ExecutorOptions {
  mode: Mode;
  backend: Backend;
  /** Run seed (quantized mode derives its rounding-noise key from it). */
  seed: number;
  /** Secure mode: one enclave feeding all workers, or Goten's two replicas. */
  topology?: 'single' | 'replicated';
  /** Secure mode: the lean protocol (default) or the paper's (docs/protocol.md). */
  protocol?: ProtocolName;
  /** Secure mode: 3 (online mask products) or 2 (offline precomputed masks). */
  workers?: 2 | 3;
  /** Secure mode: verified products (docs/protocol.md, Verification); default off. */
  verify?: VerifyMode;
  /** Secure mode: join this cluster config instead of starting local worker processes. */
  cluster?: string;
  /** Secure mode: this enclave's party name (e1 is the second replica). */
  party?: 'e0' | 'e1';
  /** Secure mode, local cluster: channel between the processes. */
  transport?: 'tls' | 'tcp';
  /** Secure mode, local replicated cluster: the goten arguments that start the replica e1. */
  replicaArgs?: readonly string[];
  /** Secure mode: set-up progress lines. */
  log?: (line: string) => void;
  /** Secure mode, local cluster: the worker processes' stderr (benchmarks keep it off their tables). */
  workerStderr?: 'inherit' | 'ignore';
  /** Secure mode, local cluster: the worker processes' CPUs (a `taskset -c` list; benchmarks pin them). */
  workerCpus?: string;
  /** Secure mode: how long to wait for a worker's answer to one op (ms, default DEFAULT_OP_TIMEOUT_MS). */
  opTimeoutMs?: number;
  /** Secure mode: how long to wait for a lost worker (ms, default roles/reconnect.ts; 0: no recovery). */
  reconnectTimeoutMs?: number;
  /** Secure mode: ops smaller than this (√(a·b·c)) are computed in the enclave (protocol/local-attempt.ts); default 0, none. */
  localBelow?: number;
}

export function parseMode(s: string): Mode {
  if (!(MODES as readonly string[]).includes(s)) throw new Error(`unknown mode '${s}' (expected ${MODES.join(', ')})`);
  return s as Mode;
}

/** The kernel backend by name; `auto` picks the native addon when it is built (else js, with a warning). */
export async function resolveBackend(name: string): Promise<Backend> {
  if (!isBackendName(name)) throw new Error(`unknown backend '${name}' (expected ${backendNames.join(', ')})`);
  return getBackend(name);
}

export async function createExecutor(o: ExecutorOptions): Promise<LinearExecutor> {
  switch (o.mode) {
    case 'plain':
      return new PlainExecutor(o.backend);
    case 'quantized':
      return createQuantizedExecutor({ backend: o.backend, seed: o.seed });
    case 'secure':
      return createSecureExecutor({
        seed: o.seed,
        topology: o.topology ?? 'single',
        protocol: o.protocol,
        cluster: o.cluster,
        party: o.party,
        backend: o.backend.name,
        transport: o.transport,
        replicaArgs: o.replicaArgs,
        log: o.log,
        workers: o.workers,
        verify: o.verify,
        workerStderr: o.workerStderr,
        workerCpus: o.workerCpus,
        opTimeoutMs: o.opTimeoutMs,
        reconnectTimeoutMs: o.reconnectTimeoutMs,
        localBelow: o.localBelow,
      });
  }
}

/** The options above with the kernel backend by name (js, native, auto; secure: also the workers'). */
export type ModeExecutorOptions = Omit<ExecutorOptions, 'backend'> & { backend: string };

/** createExecutor with the backend resolved from its name (prediction and the enclave service). */
export async function createModeExecutor(o: ModeExecutorOptions): Promise<LinearExecutor> {
  return createExecutor({ ...o, backend: await resolveBackend(o.backend) });
}
