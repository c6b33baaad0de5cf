/**
 * Data contributors' uploads, kept SEALED outside the enclave (docs/tee.md §7, tee/chunk-store.ts).
 *
 * Protocol (each step one encrypted request on an attested session, channel.ts):
 *   POST /upload/begin   {"header": DatasetHeader}                   → {"upload": id, "bytes": n, "chunkBytes": max}
 *   POST /upload/chunk   binary: 32-char hex id ‖ u32 LE index ‖ bytes → {"received": bytes so far}
 *   POST /upload/commit  {"upload": id, "sha256": hex of the payload}  → {"dataset": id, "train": n, "test": m}
 * Chunks must come in order (index = number received so far) and may not pass the declared length; each is
 * sealed (AES-256-GCM under the provider's sealing key, chunk id and version authenticated) into a
 * SealedChunkStore on untrusted storage as soon as it arrives, so plaintext data never sits outside the
 * enclave. Commit checks the length and the SHA-256 (the contributor's end-to-end check that the enclave got
 * exactly their data), then re-reads the sealed chunks and validates every label and value before the data
 * set counts; a failed commit deletes the upload. Limits: `maxTotalBytes` over committed + pending uploads,
 * `maxPending` uploads in flight, `maxChunk` bytes per chunk.
 */
import { createHash, type Hash } from 'node:crypto';
import { CodecError, type DatasetHeader, decodeDatasetPayload, validateDatasetHeader } from '../wire/codec.js';
import type { Dataset, Split } from '../data/dataset.js';
import { SealedChunkStore, type Sealer, type UntrustedBacking } from '../tee/index.js';
import { HttpError } from './http-util.js';
import { randomId } from './identity.js';

interface Upload {
  id: string;
  header: DatasetHeader;
  bytes: number;
  received: number;
  chunks: number;
  hash: Hash;
}

export interface UploadLimits {
  maxTotalBytes: number;
  maxPending: number;
  maxChunk: number;
}

export class UploadStore {
  private readonly store: SealedChunkStore;
  private readonly pending = new Map<string, Upload>();
  private readonly committed: Upload[] = [];

  constructor(
    sealer: Sealer,
    backing: UntrustedBacking,
    readonly limits: UploadLimits,
  ) {
    this.store = new SealedChunkStore(sealer, backing, 'uploads');
  }

  private usedBytes(): number {
    let n = 0;
    for (const u of [...this.pending.values(), ...this.committed]) n += u.bytes;
    return n;
  }

  begin(rawHeader: unknown): { upload: string; bytes: number; chunkBytes: number } {
    if (this.pending.size >= this.limits.maxPending) throw new HttpError(429, 'BUSY', `${this.pending.size} uploads are already in progress`);
    let v: { header: DatasetHeader; bytes: number };
    try {
      v = validateDatasetHeader(rawHeader, this.limits.maxTotalBytes - this.usedBytes());
    } catch (e) {
      throw new HttpError(e instanceof CodecError && /exceeds/.test(e.message) ? 413 : 400, 'BAD_DATASET', (e as Error).message);
    }
    const first = this.committed[0]?.header;
    if (first && first.shape.join() !== v.header.shape.join()) {
      throw new HttpError(409, 'SHAPE_MISMATCH', `this enclave holds ${first.shape.join('×')} data; the upload is ${v.header.shape.join('×')}`);
    }
    const u: Upload = { id: randomId(), header: v.header, bytes: v.bytes, received: 0, chunks: 0, hash: createHash('sha256') };
    this.pending.set(u.id, u);
    return { upload: u.id, bytes: u.bytes, chunkBytes: this.limits.maxChunk };
  }

  async chunk(body: Buffer): Promise<{ received: number }> {
    if (body.length < 36) throw new HttpError(400, 'BAD_CHUNK', 'a chunk is a 32-character upload id, a u32 index and data');
    const u = this.pendingUpload(body.toString('latin1', 0, 32));
    const index = body.readUInt32LE(32);
    const data = body.subarray(36);
    if (index !== u.chunks) throw new HttpError(409, 'OUT_OF_ORDER', `expected chunk ${u.chunks}, got ${index}`);
    if (data.length === 0 || data.length > this.limits.maxChunk) throw new HttpError(400, 'BAD_CHUNK', `a chunk carries 1..${this.limits.maxChunk} bytes`);
    if (u.received + data.length > u.bytes) throw new HttpError(400, 'TOO_LONG', `the upload declared ${u.bytes} bytes; this chunk goes past the end`);
    await this.store.put(`${u.id}/${index}`, data);
    u.hash.update(data);
    u.received += data.length;
    u.chunks++;
    return { received: u.received };
  }

  async commit(id: unknown, sha256: unknown): Promise<{ dataset: string; train: number; test: number }> {
    const u = this.pendingUpload(id);
    try {
      if (u.received !== u.bytes) throw new HttpError(400, 'INCOMPLETE', `received ${u.received} of ${u.bytes} bytes`);
      if (typeof sha256 !== 'string' || u.hash.digest('hex') !== sha256.toLowerCase()) {
        throw new HttpError(400, 'DIGEST_MISMATCH', 'the payload SHA-256 differs from the contributor\'s: data changed in transit or chunks are missing');
      }
      const first = this.committed[0]?.header;
      if (first && first.shape.join() !== u.header.shape.join()) throw new HttpError(409, 'SHAPE_MISMATCH', 'another upload with a different shape was committed first');
      await this.load(u); // validates labels and values
    } catch (e) {
      this.pending.delete(u.id);
      await this.drop(u);
      if (e instanceof CodecError) throw new HttpError(400, 'BAD_DATASET', e.message);
      throw e;
    }
    this.pending.delete(u.id);
    this.committed.push(u);
    return { dataset: u.id, train: u.header.train, test: u.header.test };
  }

  private pendingUpload(id: unknown): Upload {
    const u = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (!u) throw new HttpError(404, 'UNKNOWN_UPLOAD', 'no upload in progress with this id');
    return u;
  }

  private async drop(u: Upload): Promise<void> {
    for (let i = 0; i < u.chunks; i++) await this.store.delete(`${u.id}/${i}`).catch(() => {});
  }

  /** Unseals one upload's chunks and decodes (validates) it. */
  private async load(u: Upload): Promise<Dataset> {
    const payload = Buffer.allocUnsafe(u.bytes);
    let at = 0;
    for (let i = 0; i < u.chunks; i++) {
      // unsealed straight into its place in the payload (no per-chunk plaintext copy)
      const id = `${u.id}/${i}`;
      const n = this.store.plaintextLength(id) ?? 0;
      await this.store.get(id, payload.subarray(at, at + n));
      at += n;
    }
    return decodeDatasetPayload(u.header, payload);
  }

  status(): { datasets: number; train: number; test: number; pending: number } {
    return {
      datasets: this.committed.length,
      train: this.committed.reduce((a, u) => a + u.header.train, 0),
      test: this.committed.reduce((a, u) => a + u.header.test, 0),
      pending: this.pending.size,
    };
  }

  /** Every committed upload as one data set (float32 with the scale folded in when dtypes differ). */
  async assemble(): Promise<Dataset> {
    if (this.committed.length === 0) throw new HttpError(409, 'NO_DATA', 'no data set has been uploaded and committed');
    const sets: Dataset[] = [];
    for (const u of this.committed) sets.push(await this.load(u));
    const h = this.committed[0].header;
    const numClasses = Math.max(...sets.map((d) => d.numClasses));
    const train = concatSplits(sets.map((d) => d.train));
    const test = concatSplits(sets.map((d) => d.test));
    if (train.count === 0 || test.count === 0) throw new HttpError(409, 'NO_DATA', `training needs train and test samples; have ${train.count} and ${test.count}`);
    // one source name when every contributor uploaded the same kind of data (goten predict can reload it)
    const name = sets.every((d) => d.name === sets[0].name) ? sets[0].name : `uploads:${sets.length}`;
    return { name, train, test, numClasses, inputShape: [...h.shape], augment: false };
  }
}

function concatSplits(splits: Split[]): Split {
  const shape = splits[0].shape;
  const count = splits.reduce((a, s) => a + s.count, 0);
  const labels = new Int32Array(count);
  const sameU8 = splits.every((s) => s.images instanceof Uint8Array && s.scale === splits[0].scale);
  const per = shape[0] * shape[1] * shape[2];
  const images = sameU8 ? new Uint8Array(count * per) : new Float32Array(count * per);
  let at = 0;
  for (const s of splits) {
    labels.set(s.labels, at);
    if (sameU8) images.set(s.images, at * per);
    else for (let i = 0; i < s.count * per; i++) images[at * per + i] = s.images[i] * s.scale;
    at += s.count;
  }
  return { images, labels, shape, count, scale: sameU8 ? splits[0].scale : 1 };
}
