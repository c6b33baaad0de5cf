/**
 * The package as a user gets it: `npm pack` of this checkout, `npm install` of the tarball in an empty
 * directory (dependencies from the npm registry or npm's cache; the native addon builds from the sources
 * in the tarball, or the JS backend is used), then `node library.mjs` — a copy of examples/library.mjs,
 * which imports the package by name — must print one JSON line with testAccuracy ≥ 0.5, and
 * `npx goten --help` must work.
 *
 * The pack runs in a copy of the checkout (its node_modules linked), because packing runs the `prepare`
 * build, which replaces dist/ — and other test files run `bin/goten.js` from this checkout's dist/ at the
 * same time. The test is skipped, with npm's words, only when npm cannot reach the registry.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'goten-package-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** What packing needs of the checkout: package metadata, sources, build config, the files it ships. */
const COPIED = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'bin', 'src', 'bench', 'docs', 'examples'];
const NATIVE_SOURCES = ['package.json', 'binding.gyp', 'build.mjs', 'detect-blas.cjs', 'index.cjs', 'README.md', 'src'];

const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network request|request to https?:\/\/\S+ failed/i;

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  const env = { ...process.env };
  // the parent test runner's settings must not leak into the user's commands
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  delete env.GOTEN_FROM_SOURCE;
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

function tail(r: SpawnSyncReturns<string>): string {
  return `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
}

test('npm pack → npm install in an empty directory → examples/library.mjs trains, npx goten --help works', { timeout: 15 * 60_000 }, (t) => {
  const checkout = join(work, 'checkout');
  for (const name of COPIED) cpSync(join(root, name), join(checkout, name), { recursive: true });
  for (const name of NATIVE_SOURCES) cpSync(join(root, 'native', name), join(checkout, 'native', name), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');

  const packDir = join(work, 'pack');
  mkdirSync(packDir);
  const pack = run('npm', ['pack', '--pack-destination', packDir], checkout, 5 * 60_000);
  assert.equal(pack.status, 0, `npm pack failed:\n${tail(pack)}`);
  const tarballs = readdirSync(packDir).filter((n) => /^goten-ts-.*\.tgz$/.test(n));
  assert.equal(tarballs.length, 1, `npm pack wrote ${readdirSync(packDir).join(', ')}`);

  const user = join(work, 'user');
  mkdirSync(user);
  cpSync(join(root, 'examples', 'library.mjs'), join(user, 'library.mjs'));
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(packDir, tarballs[0])], user, 10 * 60_000);
  if (install.status !== 0 && NETWORK.test(`${install.stdout}${install.stderr}`)) {
    t.skip(`npm cannot reach the registry to install the tarball's dependencies:\n${tail(install)}`);
    return;
  }
  assert.equal(install.status, 0, `npm install of the tarball failed:\n${tail(install)}`);

  const lib = run(process.execPath, ['library.mjs'], user, 5 * 60_000);
  assert.equal(lib.status, 0, `node library.mjs failed:\n${tail(lib)}`);
  const lines = lib.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `library.mjs printed more than one line:\n${lib.stdout}`);
  const out = JSON.parse(lines[0]) as { testAccuracy: number; model: string; mode: string; trainImages: number };
  assert.equal(out.model, 'mnist-cnn');
  assert.equal(out.mode, 'quantized');
  assert.equal(out.trainImages, 1024);
  assert.ok(out.testAccuracy >= 0.5, `testAccuracy ${out.testAccuracy} < 0.5`);

  const help = run('npx', ['--no-install', 'goten', '--help'], user, 60_000);
  assert.equal(help.status, 0, `npx goten --help failed:\n${tail(help)}`);
  assert.match(help.stdout, /Usage: goten/);
  assert.match(help.stdout, /\bdemo\b/);
});
