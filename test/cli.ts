/**
 * Running the `goten` command in tests: the one place that knows how (Node with tsx over
 * src/cli/main.ts, from the repository root) and how to read its `--json` output (one JSON object
 * per line on stdout). Tests assert on those objects and exit codes, not on log sentences, wherever
 * the command offers JSON.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** Node's arguments for `goten <args>` (for spawning it in another way, e.g. inside a network namespace). */
export function gotenArgv(args: readonly string[]): string[] {
  return ['--import', 'tsx', MAIN, ...args];
}

export interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `goten <args>` to completion (`env`: the child's environment, default this one's; killed after `timeoutMs`). */
export function goten(args: readonly string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, gotenArgv(args), { cwd: ROOT, encoding: 'utf8', env: o.env, timeout: o.timeoutMs ?? 600_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** `goten <args>` as a running child process (signals, stalls, services). */
export function spawnGoten(args: readonly string[], o: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, gotenArgv(args), { cwd: ROOT, ...o });
}

/** A child process whose output is collected as it arrives (readable while it still runs, e.g. after a stall). */
export class Watched {
  stdout = '';
  stderr = '';
  /** Its exit code (null: killed by a signal). */
  readonly done: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.done = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }
}

/** The JSON objects of `--json` output, one per non-empty line (throws, naming the line, on anything else). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line on stdout: ${l.slice(0, 200)}`);
      }
    });
}
