import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gotenTrain, TINY_CONV, writeTinyConfig } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'goten-cli-'));
const config = writeTinyConfig(dir, TINY_CONV);
const base = ['--model', config, '--data', 'synthetic:1x8x8:3', '--batch', '16', '--limit-train', '96', '--limit-test', '32', '--seed', '4'];

const goten = (...args: string[]) => gotenTrain(args);

function jsonLines(stdout: string): Record<string, unknown>[] {
  const lines = stdout.trim().split('\n');
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('goten train --json prints exactly one JSON object per epoch on stdout', () => {
  const r = goten(...base, '--epochs', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  const rows = jsonLines(r.stdout);
  assert.equal(rows.length, 2);
  rows.forEach((row, i) => {
    assert.equal(row.epoch, i + 1);
    assert.equal(row.mode, 'plain');
    assert.equal(row.overflows, 0);
    for (const k of ['loss', 'trainAccuracy', 'testAccuracy', 'imagesPerSecond']) assert.equal(typeof row[k], 'number', k);
    for (const k of ['trainAccuracy', 'testAccuracy']) assert.ok((row[k] as number) >= 0 && (row[k] as number) <= 1, k);
    assert.ok((row.imagesPerSecond as number) > 0);
  });
  assert.ok((rows[1].loss as number) < (rows[0].loss as number), 'loss falls');
  assert.match(r.stderr, /test accuracy \d+\.\d\d% after 2 epochs \(tiny on synthetic:1x8x8:3, plain/);
});

test('goten train --save then --resume reproduces the uninterrupted run (quantized)', () => {
  const ck = join(dir, 'q.safetensors');
  // a schedule that does not depend on --epochs (cosine spans --epochs, so it would differ)
  const q = [...base, '--mode', 'quantized', '--schedule', 'step:1:0.5'];
  const straight = goten(...q, '--epochs', '2', '--json');
  assert.equal(straight.code, 0, straight.stderr);
  const first = goten(...q, '--epochs', '1', '--json', '--save', ck);
  assert.equal(first.code, 0, first.stderr);
  // unspecified options (model, data, mode, batch, seed, limits) come from the checkpoint
  const resumed = goten('--resume', ck, '--epochs', '2', '--json');
  assert.equal(resumed.code, 0, resumed.stderr);
  const strip = (o: Record<string, unknown>): Record<string, unknown> => ({ ...o, imagesPerSecond: 0, seconds: 0 });
  const want = jsonLines(straight.stdout).map(strip);
  assert.equal(want[0].mode, 'quantized');
  assert.deepEqual([...jsonLines(first.stdout), ...jsonLines(resumed.stdout)].map(strip), want);
});

test('goten train: clear one-line errors', () => {
  const bad = goten('--data', 'synthetic:1x8', '--epochs', '1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^goten: data spec 'synthetic:1x8': expected synthetic:<C>x<H>x<W>:<classes>/m);
  const secure = goten(...base, '--mode', 'secure', '--cluster', join(dir, 'no-cluster.json'));
  assert.notEqual(secure.code, 0);
  assert.match(secure.stderr, /^goten: cannot read cluster config .*no-cluster\.json/m);
  const missing = goten('--resume', join(dir, 'none.safetensors'));
  assert.match(missing.stderr, /^goten: cannot read checkpoint .*none\.safetensors: ENOENT$/m);
  assert.equal(missing.stdout, '');
});

test('goten train --local-below keeps small layers in the enclave (by default those below 2^24 multiply-adds): the same run, fewer ops for the workers', () => {
  const run = (limit?: string) => {
    const r = goten(...base, '--epochs', '1', '--json', '--mode', 'secure', '--transport', 'tcp', ...(limit === undefined ? [] : ['--local-below', limit]));
    assert.equal(r.code, 0, r.stderr);
    const ops = [...r.stderr.matchAll(/w\d: session ended after (\d+) ops/g)].map((m) => Number(m[1]));
    assert.equal(ops.length, 3, 'every worker reports its op count');
    const row = jsonLines(r.stdout)[0];
    return { ops: ops[0], loss: row.loss, testAccuracy: row.testAccuracy };
  };
  const all = run('0');
  const local = run(); // the default, DEFAULT_LOCAL_BELOW
  assert.equal(local.loss, all.loss, 'exact either way: the same loss');
  assert.equal(local.testAccuracy, all.testAccuracy);
  assert.ok(all.ops > 0);
  assert.equal(local.ops, 0, 'every op of the tiny model is below the default limit: the workers compute nothing');
  assert.notEqual(goten(...base, '--mode', 'secure', '--local-below', '-5').code, 0, 'a negative limit is refused');
});
