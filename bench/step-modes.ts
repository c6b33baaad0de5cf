/**
 * The execution modes of `goten bench step`, each built by the mode registry
 * (src/modes) in this process (the enclave) and, for the secure modes, with its
 * workers as separate OS processes on loopback (roles/launcher.ts), on the
 * enclave's kernel backend:
 *
 *   pure-enclave          plain float32 products on the native backend, in the enclave
 *   quantized             the exact quantized reference (SWALP quantization, products mod P), in the enclave
 *   secure-online         the lean protocol with 3 workers (worker 2 computes Z' for worker 1)
 *   secure-offline        the lean protocol with 2 workers; the enclave precomputes Z̃ in an offline phase
 *   secure-online-goten   the paper's protocol, 3 workers
 *   secure-offline-goten  the paper's protocol, 2 workers
 */
import type { VerifyMode } from '../src/protocol/product-verifier.js';
import type { Backend } from '../src/backend/backend.js';
import { createExecutor, type Mode } from '../src/modes/executors.js';
import { MsgType } from '../src/net/message-types.js';
import type { TrafficSnapshot } from '../src/net/counters.js';
import type { LinearExecutor } from '../src/nn/executor.js';
import { SecureExecutor } from '../src/protocol/secure-executor.js';
import type { ProtocolName } from '../src/protocol/variant.js';

export const STEP_MODES = ['pure-enclave', 'quantized', 'secure-online', 'secure-offline', 'secure-online-goten', 'secure-offline-goten'] as const;
export type StepMode = (typeof STEP_MODES)[number];
/** What `--modes` runs when not given: the baseline and both protocols online. */
export const DEFAULT_STEP_MODES: readonly StepMode[] = ['pure-enclave', 'quantized', 'secure-online', 'secure-online-goten', 'secure-offline'];

/** A secure mode's protocol and number of workers. */
export function secureMode(mode: StepMode): { protocol: ProtocolName; workers: 2 | 3 } | null {
  if (!mode.startsWith('secure-')) return null;
  return { protocol: mode.endsWith('-goten') ? 'goten' : 'lean', workers: mode.startsWith('secure-online') ? 3 : 2 };
}

export interface WorkerSnapshot {
  party: string;
  ops: number;
  /** Time the worker spent computing its products and masks (wall), ms. */
  busyMs: number;
  /** CPU time of the worker process so far (all threads, transport included), ms. */
  cpuMs: number;
}

export interface ModeRig {
  readonly mode: StepMode;
  readonly executor: LinearExecutor;
  readonly secure: SecureExecutor | null;
  /** Asks every worker for its counters (between steps only). */
  workerStats(): Promise<WorkerSnapshot[]>;
  /** The enclave's traffic counters, one per worker connection. */
  traffic(): TrafficSnapshot[];
  close(): Promise<void>;
}

export interface RigOptions {
  readonly backend: Backend;
  readonly seed: number;
  readonly transport: 'tcp' | 'tls';
  /** CPUs of the worker processes (a taskset list); default: not pinned. */
  readonly workerCpus?: string;
  /** Secure modes: verified products (default off). */
  readonly verify?: VerifyMode;
  /** Secure modes: ops smaller than this (√(a·b·c)) are computed in the enclave (default 0: none). */
  readonly localBelow?: number;
}

let statsRequest = 0x7f000000;

async function askStats(conn: SecureExecutor['connections'][number], party: string): Promise<WorkerSnapshot> {
  const opId = statsRequest++ >>> 0;
  await conn.send({ type: MsgType.Control, opId, dtype: 'json', value: { kind: 'stats' } });
  const msg = await conn.expect(MsgType.Control, { opId, timeoutMs: 30_000 });
  const v = (msg.dtype === 'json' ? msg.value : {}) as { ops?: number; busyMs?: number; cpuMs?: number };
  return { party, ops: v.ops ?? 0, busyMs: v.busyMs ?? 0, cpuMs: v.cpuMs ?? 0 };
}

/** The registry's mode (src/modes) a benchmark mode runs in. */
function registryMode(mode: StepMode): Mode {
  if (mode === 'pure-enclave') return 'plain';
  return mode === 'quantized' ? 'quantized' : 'secure';
}

export async function openMode(mode: StepMode, o: RigOptions): Promise<ModeRig> {
  const spec = secureMode(mode);
  // the same registry as `goten train` and the service; secure: a local cluster of worker processes,
  // stopped by the executor's close()
  const executor = await createExecutor({
    mode: registryMode(mode),
    backend: o.backend,
    seed: o.seed,
    topology: 'single',
    transport: o.transport,
    protocol: spec?.protocol,
    workers: spec?.workers,
    verify: o.verify,
    workerStderr: 'ignore',
    workerCpus: o.workerCpus,
    localBelow: o.localBelow,
  });
  if (!(executor instanceof SecureExecutor)) {
    return { mode, executor, secure: null, workerStats: async () => [], traffic: () => [], close: () => executor.close() };
  }
  const secure = executor;
  const parties = secure.connections.map((_, i) => `w${i}`);
  return {
    mode,
    executor,
    secure,
    workerStats: () => Promise.all(secure.connections.map((c, i) => askStats(c, parties[i]))),
    traffic: () => secure.connections.map((c, i) => ({ ...c.counters.snapshot(), peer: parties[i] })),
    close: () => secure.close(),
  };
}
