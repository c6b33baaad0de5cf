import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  captureCheckpoint,
  type CheckpointInfo,
  type CheckpointableModel,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  restoreModel,
  saveCheckpoint,
} from '../../src/nn/checkpoint.js';
import { Rng } from '../../src/nn/rng.js';
import type { LoaderState } from '../../src/data/loader.js';

function fakeModel(seed: number, shapes: Record<string, number[]> = { w: [2, 3], b: [3] }): CheckpointableModel & { rng: Rng } {
  const r = new Rng(seed);
  const params = Object.entries(shapes).map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { name, shape, value: Float32Array.from({ length: n }, () => r.normal()), grad: new Float32Array(n), decay: true };
  });
  const buffers = [{ name: 'bn.mean', shape: [3], value: Float32Array.from([seed, 2, 3]) }];
  return { parameters: () => params, buffers: () => buffers, rng: r };
}

const info: CheckpointInfo = {
  model: 'tiny',
  data: 'synthetic:1x4x4:3',
  mode: 'plain',
  seed: 5,
  epoch: 1,
  step: 17,
  batchSize: 8,
  hyper: { lr: 0.1, optimizer: 'sgd', nesterov: false, schedule: null },
  norm: { mean: [0.5], std: [0.25] },
  numClasses: 3,
  inputShape: [1, 4, 4],
};
const loader: LoaderState = { orderRng: [1, 2, 3, 4], augRng: [5, 6, 7, 8], position: 2, inEpoch: true };
const optState = { step: 17, velocity: [new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([7, 8, 9])], beta: NaN, extra: new Float64Array([0.5]) };

test('checkpoint round-trip restores weights, buffers, optimizer and RNG states', () => {
  const a = fakeModel(1);
  a.rng.next();
  const dir = mkdtempSync(join(tmpdir(), 'goten-ckpt-'));
  const path = join(dir, 'c.safetensors');
  saveCheckpoint(path, captureCheckpoint(a, info, optState, loader, { calls: 3 }));
  assert.deepEqual(readdirSync(dir), ['c.safetensors']); // temp file renamed away
  const c = loadCheckpoint(path);
  assert.deepEqual(c.info, info);
  assert.deepEqual(c.rng.loader, loader);
  assert.deepEqual(c.executor, { calls: 3 });
  const o = c.optimizer as typeof optState;
  assert.equal(o.step, 17);
  assert.ok(Number.isNaN(o.beta));
  assert.deepEqual(o.velocity, optState.velocity);
  assert.ok(o.extra instanceof Float64Array && o.extra[0] === 0.5);
  const b = fakeModel(2);
  restoreModel(b, c);
  assert.deepEqual(b.parameters().map((p) => Array.from(p.value)), a.parameters().map((p) => Array.from(p.value)));
  assert.deepEqual(Array.from(b.buffers()[0].value), [1, 2, 3]);
  assert.equal(b.rng.next(), a.rng.next());
  // safetensors layout: u64 LE header length, JSON header, 8-byte aligned data
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
  assert.deepEqual(header['param.w'].shape, [2, 3]);
  assert.equal(header['param.w'].dtype, 'F32');
  assert.equal(header.__metadata__.format, 'goten-checkpoint');
});

test('checkpoint: truncated, corrupt and mismatched files give clear errors', () => {
  const bytes = encodeCheckpoint(captureCheckpoint(fakeModel(1), info, optState, loader));
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, 5), 'f'), /f: not a valid checkpoint \(file is 5 bytes/);
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, 40), 'f'), /truncated: header needs/);
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'f'), /truncated: tensor .* ends at byte/);
  const flipped = bytes.slice();
  flipped[flipped.length - 3] ^= 0x40;
  assert.throws(() => decodeCheckpoint(flipped, 'f'), /checksum mismatch/);
  const badJson = bytes.slice();
  badJson[9] = 0x7b; // '{{'
  assert.throws(() => decodeCheckpoint(badJson, 'f'), /header is not valid JSON/);
  const huge = bytes.slice();
  huge[7] = 0x10;
  assert.throws(() => decodeCheckpoint(huge, 'f'), /header length .* is implausible/);
  const c = decodeCheckpoint(bytes, 'f');
  assert.throws(() => restoreModel(fakeModel(1, { w: [3, 2], b: [3] }), c, 'f'), /parameter w has shape \[2,3\] F32, the model needs \[3,2\]/);
  assert.throws(() => restoreModel(fakeModel(1, { w: [2, 3] }), c, 'f'), /parameter b not in the model/);
  assert.throws(() => restoreModel(fakeModel(1, { w: [2, 3], b: [3], c: [1] }), c, 'f'), /parameter c is missing/);
  const dir = mkdtempSync(join(tmpdir(), 'goten-ckpt-'));
  writeFileSync(join(dir, 'x'), 'hello world, this is not a checkpoint');
  assert.throws(() => loadCheckpoint(join(dir, 'x')), /not a valid checkpoint/);
  assert.throws(() => loadCheckpoint(join(dir, 'missing')), /cannot read checkpoint .*missing: ENOENT/);
  assert.throws(() => saveCheckpoint(join(dir, 'no/such/dir/c'), c), /cannot write checkpoint/);
  assert.ok(!existsSync(join(dir, 'no')));
});
