/**
 * Loading checkpoints from the command line, sealed or not: a sealed file
 * (checkpoint-seal.ts) is opened with the sealing key of the given TEE
 * provider, created only when needed (the simulated provider announces itself).
 * `loadModelFile` also takes an ONNX model (src/onnx/import.ts) wherever a
 * model is only run (predict, serve, export).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Checkpoint, loadCheckpoint } from '../nn/checkpoint.js';
import { looksSealed } from '../nn/checkpoint-seal.js';
import { importOnnxBytes, looksLikeOnnx } from '../onnx/import.js';
import type { TeeKind } from '../tee/provider.js';
import { createProvider } from '../tee/providers/index.js';
import type { Sealer } from '../tee/seal.js';

/** The TEE provider's sealer, created on first use. */
export function memoSealer(kind: TeeKind): () => Promise<Sealer> {
  let s: Promise<Sealer> | undefined;
  return () => (s ??= createProvider(kind).sealer());
}

async function readHead(path: string): Promise<Uint8Array | null> {
  try {
    const fh = await open(path, 'r');
    try {
      const head = new Uint8Array(16);
      const { bytesRead } = await fh.read(head, 0, 16, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return null; // loadCheckpoint reports the missing file
  }
}

/** Loads a checkpoint, unsealing it with `sealer()` when it is sealed. */
export async function loadCheckpointFile(path: string, sealer: () => Promise<Sealer>): Promise<Checkpoint> {
  const head = await readHead(path);
  return loadCheckpoint(path, head && looksSealed(head) ? await sealer() : undefined);
}

/** A checkpoint, sealed checkpoint or ONNX model (imported in memory; notes go to `log`). */
export async function loadModelFile(path: string, sealer: () => Promise<Sealer>, log?: (line: string) => void): Promise<Checkpoint> {
  const head = await readHead(path);
  if (head && looksLikeOnnx(head, path)) {
    const r = importOnnxBytes(await readFile(path), path);
    for (const n of r.notes) log?.(`${path}: ${n}`);
    return r.checkpoint;
  }
  return loadCheckpointFile(path, sealer);
}

/**
 * Refuses a checkpoint path whose directory is missing or not writable before training starts, rather
 * than after the first epoch's work.
 */
export function checkSavePath(path: string, flag = '--save'): void {
  const dir = dirname(resolve(path));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`${flag} ${path}: the directory ${dir} does not exist`);
  }
  if (!isDir) throw new Error(`${flag} ${path}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`${flag} ${path}: the directory ${dir} is not writable`);
  }
}
