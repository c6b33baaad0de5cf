import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelConfig, remoteTrainOutput } from '../../src/cli/commands/train-remote.js';
import type { TrainingStatus } from '../../src/client/flows.js';

test('goten train-remote --no-wait --json keeps stdout JSON-only (the status line goes to stderr)', () => {
  const j = remoteTrainOutput(null, true);
  assert.equal(j.stdout, '');
  assert.match(j.stderr, /training started/);
  assert.equal(remoteTrainOutput(null, false).stdout, 'training started\n');
});

test('goten train-remote --json prints one JSON object per epoch', () => {
  const s = { state: 'done', epochs: [{ epoch: 1, loss: 0.5, trainAccuracy: 0.8, testAccuracy: 0.7, overflows: 0 }] } as unknown as TrainingStatus;
  const out = remoteTrainOutput(s, true);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal((JSON.parse(lines[0]) as { epoch: number }).epoch, 1);
});

test('goten train-remote: a --model file that is not JSON is a clear error naming the file', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'goten-remote-')), 'bad.json');
  writeFileSync(f, '{ not json');
  assert.throws(() => readModelConfig(f), /model config .*bad\.json is not valid JSON/);
});
