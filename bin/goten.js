#!/usr/bin/env -S node --no-memory-reducer
// Entry point of the `goten` command. Runs the compiled CLI from dist/ (built by
// `npm ci` through the prepare script); falls back to the TypeScript sources
// through tsx when dist/ is missing or GOTEN_FROM_SOURCE=1.
//
// V8's memory reducer runs full garbage collections in a process that has gone idle
// after allocating, which is what a secure run's enclave does most of every step
// (it waits for its workers): measured on a VGG-11 step, ~40 ms of enclave CPU per
// episode (docs/benchmarks.md). V8 flags cannot change once the heap exists, so the
// shebang passes --no-memory-reducer, and `node bin/goten.js …` without it is run
// again with it (GOTEN_V8_FLAGS=keep skips that).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FLAG = '--no-memory-reducer';
if (!process.execArgv.includes(FLAG) && process.env.GOTEN_V8_FLAGS !== 'keep') {
  const child = spawn(process.execPath, [FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the whole process group, so the child gets it itself; other signals are passed on
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else {
  const dist = new URL('../dist/src/cli/main.js', import.meta.url);
  if (existsSync(dist) && process.env.GOTEN_FROM_SOURCE !== '1') {
    await import(dist.href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(new URL('../src/cli/main.ts', import.meta.url).href);
  }
}
