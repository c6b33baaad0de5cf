/**
 * Mode → LinearExecutor: the one place that knows how each execution mode is
 * built, so that `goten train` (and later `goten bench`) select modes the same
 * way. `secure` joins here when the protocol's executor factory lands.
 */
import type { Backend } from '../backend/backend.js';
import { backendNames, getBackend, isBackendName } from '../backend/index.js';
import type { LinearExecutor } from '../nn/executor.js';
import { PlainExecutor } from '../nn/plain-executor.js';
import { createQuantizedExecutor } from '../protocol/quantized-executor.js';

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
  /** Secure mode: 3 (online mask products) or 2 (offline precomputed masks). */
  workers?: 2 | 3;
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
      throw new Error(
        `mode 'secure' (topology ${o.topology ?? 'single'}, ${o.workers ?? 3} workers) is not available yet; use --mode plain or quantized`,
      );
  }
}
