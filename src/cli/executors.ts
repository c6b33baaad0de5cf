/**
 * Mode → LinearExecutor: the one place that knows how each execution mode is
 * built, so that `goten train` (and later `goten bench`) select modes the same
 * way.
 */
import { Option } from 'commander';
import type { Backend } from '../backend/backend.js';
import { backendNames, getBackend, isBackendName } from '../backend/index.js';
import type { LinearExecutor } from '../nn/executor.js';
import { PlainExecutor } from '../nn/plain-executor.js';
import { createQuantizedExecutor } from '../protocol/quantized-executor.js';
import { DEFAULT_PROTOCOL, PROTOCOLS, type ProtocolName } from '../protocol/variant.js';
import { DEFAULT_OP_TIMEOUT_MS } from '../roles/session.js';
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
  /** Secure mode: how long to wait for a worker's answer to one op (ms, default DEFAULT_OP_TIMEOUT_MS). */
  opTimeoutMs?: number;
}

/** `--op-timeout`: seconds to wait for a worker's answer (a stalled or dead worker ends the run with an error naming it and the op). */
export function opTimeoutOption(): Option {
  return new Option('--op-timeout <seconds>', "secure mode: how long to wait for a worker's answer to one op before the run stops with an error naming the worker and the op")
    .argParser((v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 86_400) throw new Error(`--op-timeout must be a number of seconds, > 0 and ≤ 86400, got '${v}'`);
      return n;
    })
    .default(DEFAULT_OP_TIMEOUT_MS / 1000);
}

/** `--protocol`: which secure protocol (docs/protocol.md). */
export function protocolOption(): Option {
  return new Option('--protocol <p>', "secure mode: lean (each operand leaves the enclave once, packed) or goten (the paper's, for comparison)")
    .choices([...PROTOCOLS])
    .default(DEFAULT_PROTOCOL);
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
        opTimeoutMs: o.opTimeoutMs,
      });
  }
}
