import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdxU8, loadIdxDir, parseIdx, readIdxFile } from '../../src/data/index.js';

const dims = [3, 2, 2];
const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 20);

test('IDX: plain and gzipped files decode identically', () => {
  const raw = encodeIdxU8(dims, pixels);
  const dir = mkdtempSync(join(tmpdir(), 'goten-idx-'));
  writeFileSync(join(dir, 'a-idx3-ubyte'), raw);
  writeFileSync(join(dir, 'a-idx3-ubyte.gz'), gzipSync(raw));
  for (const f of ['a-idx3-ubyte', 'a-idx3-ubyte.gz']) {
    const a = readIdxFile(join(dir, f));
    assert.equal(a.type, 0x08);
    assert.deepEqual(a.dims, dims);
    assert.deepEqual(Array.from(a.data), Array.from(pixels));
  }
});

test('IDX: bad magic, truncation, trailing bytes and corrupt gzip are clear errors', () => {
  const raw = encodeIdxU8(dims, pixels);
  const bad = raw.slice();
  bad[0] = 7;
  assert.throws(() => parseIdx(bad, 'x'), /x: bad IDX magic 07 00 08 03/);
  const badType = raw.slice();
  badType[2] = 0x42;
  assert.throws(() => parseIdx(badType, 'x'), /unknown IDX element type 0x42/);
  assert.throws(() => parseIdx(raw.subarray(0, raw.length - 1), 'x'), /truncated IDX data/);
  assert.throws(() => parseIdx(raw.subarray(0, 6), 'x'), /truncated IDX header/);
  assert.throws(() => parseIdx(new Uint8Array([...raw, 1, 2]), 'x'), /2 trailing bytes/);
  const gz = gzipSync(raw);
  assert.throws(() => parseIdx(gz.subarray(0, gz.length - 10), 'x'), /corrupt gzip/);
  assert.throws(() => readIdxFile('/nonexistent/file'), /cannot read \/nonexistent\/file: ENOENT/);
});

test('IDX: non-byte element types are decoded big-endian', () => {
  const b = new Uint8Array(4 + 4 + 8);
  const v = new DataView(b.buffer);
  b[2] = 0x0d; // float32
  b[3] = 1;
  v.setUint32(4, 2, false);
  v.setFloat32(8, 1.5, false);
  v.setFloat32(12, -2.25, false);
  const a = parseIdx(b);
  assert.ok(a.data instanceof Float32Array);
  assert.deepEqual(Array.from(a.data), [1.5, -2.25]);
});

test('IDX directory: gzipped train/t10k files load as a data set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-idxdir-'));
  const labels = Uint8Array.from([0, 1, 2]);
  for (const p of ['train', 't10k']) {
    writeFileSync(join(dir, `${p}-images-idx3-ubyte.gz`), gzipSync(encodeIdxU8(dims, pixels)));
    writeFileSync(join(dir, `${p}-labels-idx1-ubyte.gz`), gzipSync(encodeIdxU8([3], labels)));
  }
  const ds = loadIdxDir(dir, `idx:${dir}`, { limitTest: 2 });
  assert.deepEqual(ds.inputShape, [1, 2, 2]);
  assert.equal(ds.train.count, 3);
  assert.equal(ds.test.count, 2);
  assert.equal(ds.numClasses, 3);
  assert.throws(() => loadIdxDir(join(dir, 'nope'), 'x'), /does not exist/);
  const empty = mkdtempSync(join(tmpdir(), 'goten-idxempty-'));
  assert.throws(() => loadIdxDir(empty, 'x'), /no train-images-idx3-ubyte\[\.gz\] file/);
});
