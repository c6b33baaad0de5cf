/**
 * Checkpoints sealed to the TEE (`--seal`, default in secure mode): the host
 * sees only an AES-256-GCM blob, a resumed run continues exactly as from a
 * plaintext checkpoint, and an altered file is refused with a clear error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gotenTrain } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'goten-sealed-'));
const env = { ...process.env, GOTEN_SIM_QUOTING_KEY: join(dir, 'sim-key') };
const base = ['--model', 'mnist-cnn', '--data', 'synthetic:1x28x28:10', '--batch', '32', '--limit-train', '64', '--limit-test', '32', '--seed', '2', '--mode', 'quantized', '--schedule', 'none', '--json'];

const train = (...args: string[]) => gotenTrain([...base, ...args], env);

const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const strip = (m: Record<string, unknown>) => ({ ...m, seconds: 0, imagesPerSecond: 0 });

test('sealed checkpoints: opaque on disk, bit-identical resume, tamper refused', () => {
  const sealed = join(dir, 'ck.sealed');
  const plain = join(dir, 'ck.plain');
  const straight = train('--epochs', '2', '--no-seal', '--save', plain);
  assert.equal(straight.code, 0, straight.stderr);
  const first = train('--epochs', '1', '--seal', '--save', sealed);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /SIMULATED/, 'the simulated TEE announces itself');
  const bytes = readFileSync(sealed);
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'GTS1');
  assert.equal(bytes.indexOf('goten'), -1, 'no plaintext metadata on disk');
  assert.notEqual(readFileSync(plain).indexOf('goten'), -1, 'the plaintext checkpoint shows its metadata (control)');
  const resumed = train('--resume', sealed, '--epochs', '2', '--seal', '--save', sealed);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual([...lines(first.stdout), ...lines(resumed.stdout)].map(strip), lines(straight.stdout).map(strip));

  const tampered = join(dir, 'ck.tampered');
  const t = Buffer.from(readFileSync(sealed));
  t[t.length - 40] ^= 1;
  writeFileSync(tampered, t);
  const bad = train('--resume', tampered, '--epochs', '3');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /sealed checkpoint cannot be opened/);
});
