/**
 * Mode → LinearExecutor for prediction and the enclave service, by backend NAME (the shared factory,
 * cli/executors.ts, takes a resolved Backend). secure: createSecureExecutor launches the untrusted worker
 * processes (or joins `cluster`) and runs every conv/linear product under the Goten protocol.
 */
import { createExecutor, type Mode, resolveBackend } from '../cli/executors.js';
import type { LinearExecutor } from '../nn/executor.js';

export interface ModeExecutorOptions {
  mode: Mode;
  /** Kernel backend name (js, native, auto); in secure mode also the workers' backend. */
  backend: string;
  /** Seeds the quantization noise stream (quantized/secure). */
  seed: number;
  topology?: 'single' | 'replicated';
  /** Secure mode: 3 workers (online mask products) or 2 (offline precomputed masks). */
  workers?: 2 | 3;
  /** Join an existing cluster instead of launching local workers. */
  cluster?: string;
  party?: 'e0' | 'e1';
  /** Replicated topology with a launched cluster: the e1 replica's command line. */
  replicaArgs?: readonly string[];
  transport?: 'tls' | 'tcp';
  log?: (line: string) => void;
}

export async function createModeExecutor(o: ModeExecutorOptions): Promise<LinearExecutor> {
  return createExecutor({ ...o, backend: await resolveBackend(o.backend) });
}
