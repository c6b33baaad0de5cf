/**
 * Loading checkpoints from the command line, sealed or not: a sealed file
 * (checkpoint-seal.ts) is opened with the sealing key of the given TEE
 * provider, created only when needed (the simulated provider announces itself).
 */
import { open } from 'node:fs/promises';
import { type Checkpoint, loadCheckpoint } from '../nn/checkpoint.js';
import { looksSealed } from '../nn/checkpoint-seal.js';
import type { TeeKind } from '../tee/provider.js';
import { createProvider } from '../tee/providers/index.js';
import type { Sealer } from '../tee/seal.js';

/** The TEE provider's sealer, created on first use. */
export function memoSealer(kind: TeeKind): () => Promise<Sealer> {
  let s: Promise<Sealer> | undefined;
  return () => (s ??= createProvider(kind).sealer());
}

async function isSealedFile(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const head = new Uint8Array(4);
      await fh.read(head, 0, 4, 0);
      return looksSealed(head);
    } finally {
      await fh.close();
    }
  } catch {
    return false; // loadCheckpoint reports the missing file
  }
}

/** Loads a checkpoint, unsealing it with `sealer()` when it is sealed. */
export async function loadCheckpointFile(path: string, sealer: () => Promise<Sealer>): Promise<Checkpoint> {
  return loadCheckpoint(path, (await isSealedFile(path)) ? await sealer() : undefined);
}
