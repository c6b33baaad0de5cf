/**
 * Mode → LinearExecutor for prediction and the enclave service, by backend NAME (the shared factory,
 * cli/executors.ts, takes a resolved Backend). secure: createSecureExecutor launches the untrusted worker
 * processes (or joins `cluster`) and runs every conv/linear product under the Goten protocol.
 */
import { createExecutor, type ExecutorOptions, resolveBackend } from '../cli/executors.js';
import type { LinearExecutor } from '../nn/executor.js';

/** The shared factory's options, with the kernel backend by name (js, native, auto; secure: also the workers'). */
export type ModeExecutorOptions = Omit<ExecutorOptions, 'backend'> & { backend: string };

export async function createModeExecutor(o: ModeExecutorOptions): Promise<LinearExecutor> {
  return createExecutor({ ...o, backend: await resolveBackend(o.backend) });
}
