#!/usr/bin/env node
// Entry point of the `goten` command. Runs the compiled CLI from dist/ (built by
// `npm ci` through the prepare script); falls back to the TypeScript sources
// through tsx when dist/ is missing or GOTEN_FROM_SOURCE=1.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(dist) && process.env.GOTEN_FROM_SOURCE !== '1') {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
