import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBacking, MemoryBacking, readSealedHeader, SealedChunkStore, Sealer, sealedLength } from '../../src/tee/index.js';
import { flip, rejectsCode, throwsCode } from './helpers.js';

const sealer = Sealer.fromKey(new Uint8Array(32).fill(7));
const ctx = { purpose: 'checkpoint', chunkId: 'layer1.w', version: 3 };

test('seal/unseal round trip: empty, small, and multi-update (> 64 KiB, odd length) payloads; fresh IV each time', () => {
  for (const n of [0, 1, 65536, 1_000_003]) {
    const data = randomBytes(n);
    const blob = sealer.seal(data, ctx);
    assert.equal(blob.length, sealedLength(n, ctx));
    assert.deepEqual(Buffer.from(sealer.unseal(blob, ctx)), data);
    const h = readSealedHeader(blob);
    assert.deepEqual([h.purpose, h.chunkId, h.version, h.plaintextLength], ['checkpoint', 'layer1.w', 3, n]);
  }
  const a = sealer.seal(Buffer.from('same'), ctx);
  const b = sealer.seal(Buffer.from('same'), ctx);
  assert.notDeepEqual(Buffer.from(a.subarray(24, 36)), Buffer.from(b.subarray(24, 36)));
  const into = new Uint8Array(4);
  assert.equal(Buffer.from(sealer.unseal(a, ctx, into)).toString(), 'same');
});

test('unseal refusals: swapped id, other stream, replayed, future version, truncated, extended, altered, wrong key', () => {
  const blob = sealer.seal(randomBytes(100_000), ctx);
  throwsCode(() => sealer.unseal(blob, { ...ctx, chunkId: 'layer2.w' }), 'SWAPPED', /holds chunk "layer1.w"/);
  throwsCode(() => sealer.unseal(blob, { ...ctx, purpose: 'dataset' }), 'PURPOSE_MISMATCH');
  throwsCode(() => sealer.unseal(blob, { ...ctx, version: 4 }), 'REPLAYED', /version 3, the latest is 4/);
  throwsCode(() => sealer.unseal(blob, { ...ctx, version: 2 }), 'FUTURE_VERSION');
  throwsCode(() => sealer.unseal(blob.subarray(0, blob.length - 1), ctx), 'TRUNCATED');
  throwsCode(() => sealer.unseal(blob.subarray(0, 20), ctx), 'TRUNCATED');
  throwsCode(() => sealer.unseal(new Uint8Array([...blob, 0]), ctx), 'TRUNCATED');
  throwsCode(() => sealer.unseal(flip(blob, 5000), ctx), 'ALTERED'); // ciphertext
  throwsCode(() => sealer.unseal(flip(blob, blob.length - 1), ctx), 'ALTERED'); // tag
  throwsCode(() => sealer.unseal(flip(blob, 30), ctx), 'ALTERED'); // IV (authenticated header)
  throwsCode(() => sealer.unseal(flip(blob, 0), ctx), 'MALFORMED');
  throwsCode(() => Sealer.fromKey(new Uint8Array(32)).unseal(blob, ctx), 'ALTERED');
  // A forged header (rewritten version) fails authentication.
  const forged = Uint8Array.from(sealer.seal(Buffer.from('old'), { ...ctx, version: 1 }));
  Buffer.from(forged.buffer).writeBigUInt64LE(3n, 8);
  throwsCode(() => sealer.unseal(forged, ctx), 'ALTERED');
});

test('chunk store (memory): swap, replay, truncate, alter, loss are refused and the store stays usable', async () => {
  const backing = new MemoryBacking();
  const store = new SealedChunkStore(sealer, backing, 'acts');
  const a1 = randomBytes(70_000);
  const b1 = randomBytes(5000);
  assert.equal(await store.put('a', a1), 1);
  assert.equal(await store.put('b', b1), 1);
  const aV1 = backing.blobs.get('acts/a')!;
  const a2 = randomBytes(70_000);
  assert.equal(await store.put('a', a2), 2);
  assert.deepEqual(Buffer.from(await store.get('a')), a2);

  backing.blobs.set('acts/a', aV1); // replay the old version
  await rejectsCode(store.get('a'), 'REPLAYED', /version 1, the latest is 2/);
  backing.blobs.set('acts/a', backing.blobs.get('acts/b')!); // swap in another chunk
  await rejectsCode(store.get('a'), 'SWAPPED');
  assert.deepEqual(Buffer.from(await store.get('b')), b1); // other chunks unaffected
  await store.put('a', a2); // the enclave rewrites the chunk: version 3
  const good = backing.blobs.get('acts/a')!;
  backing.blobs.set('acts/a', good.subarray(0, good.length - 100));
  await rejectsCode(store.get('a'), 'TRUNCATED');
  backing.blobs.set('acts/a', flip(good, 40_000));
  await rejectsCode(store.get('a'), 'ALTERED');
  backing.blobs.set('acts/a', good);
  assert.deepEqual(Buffer.from(await store.get('a')), a2); // usable again, nothing else lost
  assert.equal(store.versionOf('a'), 3);

  backing.blobs.delete('acts/b');
  await rejectsCode(store.get('b'), 'MISSING');
  await rejectsCode(store.get('zzz'), 'UNKNOWN_CHUNK');
  // A blob from another stream sealed with the same key is refused too.
  const other = new SealedChunkStore(sealer, backing, 'grads');
  await other.put('a', a1);
  backing.blobs.set('acts/a', backing.blobs.get('grads/a')!);
  await rejectsCode(store.get('a'), 'PURPOSE_MISMATCH');
  backing.blobs.set('acts/a', good);
  await store.delete('a');
  assert.equal(store.has('a'), false);
  assert.deepEqual(store.ids(), ['b']);
});

test('chunk store (files): on-disk replay and tamper are refused; index export/import', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-chunks-'));
  try {
    const backing = new FileBacking(dir);
    const store = new SealedChunkStore(sealer, backing, 'dataset');
    await store.put('0', Buffer.from('first'));
    const oldFile = readFileSync(backing.path('dataset/0'));
    await store.put('0', Buffer.from('second'));
    assert.equal(readdirSync(dir).length, 1); // atomic rename, no temp files left
    writeFileSync(backing.path('dataset/0'), oldFile);
    await rejectsCode(store.get('0'), 'REPLAYED');
    const cur = sealer.seal(Buffer.from('second'), { purpose: 'dataset', chunkId: '0', version: 2 });
    writeFileSync(backing.path('dataset/0'), flip(cur, cur.length - 3));
    await rejectsCode(store.get('0'), 'ALTERED');
    writeFileSync(backing.path('dataset/0'), cur);
    assert.equal(Buffer.from(await store.get('0')).toString(), 'second');
    const restored = new SealedChunkStore(sealer, backing, 'dataset');
    restored.importIndex(store.exportIndex());
    assert.equal(restored.versionOf('0'), 2);
    assert.equal(Buffer.from(await restored.get('0')).toString(), 'second');
    assert.throws(() => new SealedChunkStore(sealer, backing, 'other').importIndex(store.exportIndex()), /PURPOSE_MISMATCH/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
