/**
 * Temporary files and directories that must not outlive an interrupted run: checkpoints being written
 * (`<file>.tmp-<pid>`) and a local cluster's key directory (private keys). Registered paths are
 * removed when the process exits, including on SIGINT/SIGTERM: while anything is registered, a signal
 * that no one else handles ends the process through process.exit (whose 'exit' hook removes them)
 * instead of the default, immediate termination. What a SIGKILL leaves behind is removed at the next
 * start by `removeStale`, for files named after a process that no longer exists.
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const hooks = new Set<() => void>();
const SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

function runHooks(): void {
  for (const h of [...hooks]) {
    try {
      h();
    } catch {
      /* best effort while exiting */
    }
  }
  hooks.clear();
}

const onSignal = (sig: keyof typeof SIGNALS) => () => {
  // another handler (train's Ctrl-C, serve's graceful stop) decides how this process ends
  if (process.listenerCount(sig) === 1) process.exit(SIGNALS[sig]);
};
const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };

/** Runs `hook` (synchronously) when the process exits or is interrupted; returns its removal. */
export function atExit(hook: () => void): () => void {
  if (hooks.size === 0) {
    process.on('exit', runHooks);
    for (const sig of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(sig, handlers[sig]);
  }
  hooks.add(hook);
  return () => {
    if (!hooks.delete(hook) || hooks.size > 0) return;
    process.off('exit', runHooks);
    for (const sig of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.off(sig, handlers[sig]);
  };
}

/** Removes `path` (a file or a directory tree) at exit unless the returned function is called first. */
export function removeAtExit(path: string): () => void {
  return atExit(() => rmSync(path, { recursive: true, force: true }));
}

/** Whether a process with this id exists (EPERM: it exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `dir` named `<prefix><pid><rest>` whose process no longer exists: what an
 * interrupted earlier run left behind. Entries of live processes (a concurrent run) are kept.
 */
export function removeStale(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)(?=-|$)/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
    } catch {
      /* not ours to remove */
    }
  }
}

/** The temporary name an atomic write of `path` uses, after removing those of earlier runs that died. */
export function tempPathFor(path: string): string {
  removeStale(dirname(path), `${basename(path)}.tmp-`);
  return `${path}.tmp-${process.pid}`;
}
