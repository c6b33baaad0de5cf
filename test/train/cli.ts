/** Helpers for the tests that run `goten train` as a child process (cli-train, cli-memory, sealed-checkpoint). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goten } from '../cli.js';

/** `goten train <args>` (`env`: the child's environment, default this one's); test/cli.ts runs it. */
export function gotenTrain(args: readonly string[], env?: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const r = goten(['train', ...args], { env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small conv net for 1×8×8 synthetic data: trains in a second, exercises conv, pool and linear. */
export const TINY_CONV: readonly Record<string, unknown>[] = [
  { type: 'conv', out: 4, kernel: 3, pad: 1, bias: true },
  { type: 'relu' },
  { type: 'maxpool', kernel: 2 },
  { type: 'flatten' },
  { type: 'linear', out: 'classes' },
];

/** Writes a model config (`--model <file>`) named `tiny` with these layers to <dir>/tiny.json; returns the path. */
export function writeTinyConfig(dir: string, layers: readonly Record<string, unknown>[]): string {
  const path = join(dir, 'tiny.json');
  writeFileSync(path, JSON.stringify({ name: 'tiny', layers }));
  return path;
}
