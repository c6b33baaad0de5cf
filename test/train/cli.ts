/** Helpers for the tests that run `goten train` as a child process (cli-train, cli-memory, sealed-checkpoint). */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `goten train <args>` through tsx from the repository root (`env`: the child's environment, default this one's). */
export function gotenTrain(args: readonly string[], env?: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a model config (`--model <file>`) named `tiny` with these layers to <dir>/tiny.json; returns the path. */
export function writeTinyConfig(dir: string, layers: readonly Record<string, unknown>[]): string {
  const path = join(dir, 'tiny.json');
  writeFileSync(path, JSON.stringify({ name: 'tiny', layers }));
  return path;
}
