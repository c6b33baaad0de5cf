/**
 * Mode → LinearExecutor for prediction and the enclave service. plain and quantized come from the shared
 * factory (cli/executors.ts); secure goes through roles/secure-setup.ts: it launches three local worker
 * processes (or joins `cluster`) and runs every conv/linear product under the Goten protocol.
 */
import { createExecutor, type Mode, resolveBackend } from '../cli/executors.js';
import type { LinearExecutor } from '../nn/executor.js';
import { createSecureExecutor } from '../roles/secure-setup.js';

export interface ModeExecutorOptions {
  mode: Mode;
  /** Kernel backend name (js, native, auto); in secure mode the workers' backend. */
  backend: string;
  /** Seeds the quantization noise stream (quantized/secure). */
  seed: number;
  topology?: 'single' | 'replicated';
  /** Join an existing cluster instead of launching local workers. */
  cluster?: string;
  party?: 'e0' | 'e1';
  /** Replicated topology with a launched cluster: the e1 replica's command line. */
  replicaArgs?: readonly string[];
  transport?: 'tls' | 'tcp';
  log?: (line: string) => void;
}

export async function createModeExecutor(o: ModeExecutorOptions): Promise<LinearExecutor> {
  if (o.mode !== 'secure') return createExecutor({ mode: o.mode, backend: await resolveBackend(o.backend), seed: o.seed });
  return createSecureExecutor({
    seed: o.seed,
    topology: o.topology ?? 'single',
    cluster: o.cluster,
    party: o.party,
    backend: o.backend,
    transport: o.transport,
    replicaArgs: o.replicaArgs,
    log: o.log,
  });
}
