/**
 * `goten train` end to end: a run that diverges stops with the guard's message, a --json event and
 * exit status 3, leaving the last good checkpoint; the header names the recipe and the flags given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import { gotenTrain, TINY_CONV, writeTinyConfig } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'goten-diverge-'));
const config = writeTinyConfig(dir, TINY_CONV);

test('a diverging run stops in the epoch it diverges, reports it and keeps the last good checkpoint', () => {
  const ck = join(dir, 'run.safetensors');
  // epoch 1 trains at lr 0.05 (the default recipe); the step schedule multiplies it by 1000 for epoch 2
  const r = gotenTrain([
    '--model', config, '--data', 'synthetic:1x8x8:3', '--batch', '16', '--limit-train', '96', '--limit-test', '32',
    '--epochs', '3', '--schedule', 'step:1:1000', '--save', ck, '--json',
  ]);
  assert.equal(r.code, 3, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2, r.stdout);
  assert.equal(lines[0].epoch, 1);
  const ev = lines[1];
  assert.equal(ev.event, 'diverged');
  assert.equal(ev.epoch, 2);
  assert.ok((ev.step as number) > 6 && (ev.step as number) <= 12, `step ${ev.step}`);
  assert.equal(ev.suggestedLr, 0.01);
  assert.deepEqual(ev.checkpoint, { path: ck, epoch: 1, step: 6 });
  assert.match(
    r.stderr,
    /^goten: training diverged at step \d+ \(epoch 2, batch \d\/6, lr 50\): .*\. Try a lower learning rate: --lr 0\.01 \(about a quarter of 0\.05\)\. The last good checkpoint, .*run\.safetensors \(epoch 1, step 6\), was left as it was\.$/m,
  );
  assert.doesNotMatch(r.stderr, /test accuracy/);
  const saved = loadCheckpoint(ck);
  assert.equal(saved.info.epoch, 1);
  assert.equal(saved.info.step, 6);
});

test('--no-guard lets the same run finish (exit 0)', () => {
  const r = gotenTrain([
    '--model', config, '--data', 'synthetic:1x8x8:3', '--batch', '16', '--limit-train', '48', '--limit-test', '16',
    '--epochs', '2', '--schedule', 'step:1:1000', '--no-guard', '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; loss: number | null });
  assert.deepEqual(rows.map((x) => x.epoch), [1, 2]);
  assert.ok(rows[1].loss === null || rows[1].loss > 100, `epoch 2 diverged unguarded: loss ${rows[1].loss}`);
});

test("the header shows a built-in model's recipe, with the flags given marked", () => {
  // one step of VGG-11 on tiny images: enough to print the header (18×18 is the smallest size its 5 pools take)
  const r = gotenTrain(['--model', 'vgg11', '--data', 'synthetic:3x18x18:3', '--limit-train', '8', '--limit-test', '8', '--batch', '8', '--epochs', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /, batch 8, sgd lr [\d.]+ \(momentum 0\.9, weight decay 0\.0005\), schedule cosine, warm-up 1 epoch \(vgg11 recipe; given: --batch\), seed 1/);
});
