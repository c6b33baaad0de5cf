/**
 * `goten train --memory-budget`: the same run with every saved tensor sealed out to files gives the same
 * per-epoch metrics as the default run, says what the budget held, and leaves no sealed chunk behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gotenTrain, writeTinyConfig } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'goten-cli-mem-'));
const config = writeTinyConfig(dir, [
  { type: 'conv', out: 4, kernel: 3, pad: 1 },
  { type: 'bn2d' },
  { type: 'relu' },
  { type: 'maxpool', kernel: 2 },
  { type: 'flatten' },
  { type: 'linear', out: 'classes' },
]);
const base = ['--model', config, '--data', 'synthetic:1x8x8:3', '--batch', '16', '--limit-train', '64', '--limit-test', '32', '--seed', '4', '--epochs', '2', '--mode', 'quantized', '--json'];

const goten = (...args: string[]) => gotenTrain(args);

/** Per-epoch rows without the timing fields. */
function rows(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split('\n').map((l) => {
    const { imagesPerSecond: _i, seconds: _s, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

test('goten train --memory-budget <tiny> --offload-dir: same metrics, chunks sealed to files and deleted after use', () => {
  const plain = goten(...base);
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stderr, /^memory:/m, 'managed memory is off by default');
  const off = join(dir, 'offload');
  const managed = goten(...base, '--memory-budget', '0.001', '--offload-dir', off);
  assert.equal(managed.code, 0, managed.stderr);
  assert.deepEqual(rows(managed.stdout), rows(plain.stdout));
  const m = /^memory: tensor memory peak [\d.]+ of [\d.]+ MiB budget.*; sealed out ([\d.]+) MiB in (\d+) chunks over 8 steps/m.exec(managed.stderr);
  assert.ok(m, managed.stderr);
  assert.ok(Number(m[2]) > 0, 'chunks were sealed out');
  assert.deepEqual(readdirSync(off), [], 'no sealed chunk outlives its backward');
});

test('goten train refuses a bad --memory-budget and --offload-dir without a budget', () => {
  const bad = goten(...base, '--memory-budget', '-3');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--memory-budget must be a positive number of MiB/);
  const lone = goten(...base, '--offload-dir', dir);
  assert.notEqual(lone.code, 0);
  assert.match(lone.stderr, /--offload-dir needs --memory-budget/);
});
