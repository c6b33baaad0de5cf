/**
 * Sealed chunk store: tensors, datasets, checkpoints and mask products that do not fit the enclave's memory
 * budget live as sealed chunks in UNTRUSTED storage (host memory or files), while the table of each chunk's
 * latest version and sealed length stays INSIDE the trusted side (this object). Reading a chunk therefore
 * detects: a swapped chunk (blob of another id), a replayed one (older version), a truncated or extended one,
 * and any alteration (GCM). A refused read changes nothing: the table and every other chunk stay usable, and
 * `put` can rewrite the chunk.
 *
 * Limit: the table lives in enclave memory. Persisting it across restarts needs it sealed too (`exportIndex`)
 * AND a trusted monotonic counter to stop a rollback of the whole store to an older consistent state; neither
 * SGX (no monotonic counters in recent SGX SDKs) nor configfs-tsm offers one, so that is left to the caller.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SealError } from './errors.js';
import { sealedLength, type Sealer } from './seal.js';

/**
 * Untrusted storage for sealed blobs: may lose, swap, replay, truncate or alter anything. `put` must be done
 * with `blob` when its promise settles (callers reuse the buffer). `getInto`, where offered, reads into a
 * buffer from `scratch(bytes)` instead of allocating one per read.
 */
export interface UntrustedBacking {
  put(key: string, blob: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  getInto?(key: string, scratch: (bytes: number) => Uint8Array): Promise<Uint8Array | undefined>;
  delete(key: string): Promise<void>;
}

/**
 * Reusable blob buffers for sealing and file reads, shared by every chunk store of the process (a VGG-11
 * step seals and reads hundreds of 1 MiB chunks: allocating each would leave that much garbage resident
 * until V8 collects it). Leases are short (one put or get); a few are kept per size class.
 */
class BlobScratch {
  private readonly free = new Map<number, Uint8Array[]>();

  take(bytes: number): Uint8Array {
    const cls = Math.max(65536, 2 ** Math.ceil(Math.log2(bytes)));
    return this.free.get(cls)?.pop() ?? new Uint8Array(cls);
  }

  give(b: Uint8Array): void {
    let list = this.free.get(b.length);
    if (!list) this.free.set(b.length, (list = []));
    if (list.length < 2) list.push(b);
  }
}

const scratch = new BlobScratch();

/** Host-memory backing. `blobs` is public on purpose: it is untrusted, tests play the attacker through it. */
export class MemoryBacking implements UntrustedBacking {
  readonly blobs = new Map<string, Uint8Array>();
  async put(key: string, blob: Uint8Array): Promise<void> {
    // a fresh copy (callers reuse `blob`; an attacker holding the old blob keeps the old bytes)
    this.blobs.set(key, blob.slice());
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.blobs.get(key);
  }
  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }
}

/** File backing: one file per key (name = SHA-256 of the key), written atomically (temp file + rename). */
export class FileBacking implements UntrustedBacking {
  constructor(readonly dir: string) {}
  path(key: string): string {
    return join(this.dir, createHash('sha256').update(key).digest('hex') + '.sealed');
  }
  async put(key: string, blob: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const p = this.path(key);
    const tmp = `${p}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, blob);
    await rename(tmp, p);
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  async getInto(key: string, take: (bytes: number) => Uint8Array): Promise<Uint8Array | undefined> {
    let f;
    try {
      f = await open(this.path(key), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const { size } = await f.stat();
      const buf = take(size).subarray(0, size);
      for (let off = 0; off < size; ) {
        const { bytesRead } = await f.read(buf, off, size - off, off);
        if (bytesRead === 0) return buf.subarray(0, off); // shrank under us: the length check refuses it
        off += bytesRead;
      }
      return buf;
    } finally {
      await f.close();
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}

interface Entry {
  version: number;
  sealedLength: number;
  plaintextLength: number;
}

export class SealedChunkStore {
  private readonly table = new Map<string, Entry>();

  constructor(
    private readonly sealer: Sealer,
    private readonly backing: UntrustedBacking,
    /** the stream / purpose name bound into every chunk's authenticated header */
    readonly stream: string,
  ) {}

  private key(id: string): string {
    return `${this.stream}/${id}`;
  }

  /**
   * Seals `data` as the next version of chunk `id`; the table is updated only after the backing accepted it.
   * `version`, if given, must exceed the recorded one: callers that `delete` chunks and write them again
   * later (the activation store, version = training step) pass a monotonic counter of their own, because
   * after a delete the automatic numbering would restart at 1 and let an old blob pass as current.
   */
  async put(id: string, data: Uint8Array, version?: number): Promise<number> {
    const last = this.table.get(id)?.version ?? 0;
    if (version !== undefined && (!Number.isSafeInteger(version) || version <= last)) {
      throw new RangeError(`chunk "${id}" of "${this.stream}": version ${version} does not exceed the recorded ${last}`);
    }
    version ??= last + 1;
    const ctx = { purpose: this.stream, chunkId: id, version };
    const buf = scratch.take(sealedLength(data.length, ctx));
    try {
      const blob = this.sealer.seal(data, ctx, buf);
      await this.backing.put(this.key(id), blob);
      this.table.set(id, { version, sealedLength: blob.length, plaintextLength: data.length });
    } finally {
      scratch.give(buf);
    }
    return version;
  }

  /** Reads and authenticates the latest version of chunk `id` (into `into` if given). */
  async get(id: string, into?: Uint8Array): Promise<Uint8Array> {
    const e = this.table.get(id);
    if (!e) throw new SealError('UNKNOWN_CHUNK', `stream "${this.stream}" has no chunk "${id}"`);
    // file reads land in a scratch buffer, given back once the plaintext is out (only when `into` holds it)
    let lease: Uint8Array | undefined;
    try {
      const blob =
        this.backing.getInto && into ? await this.backing.getInto(this.key(id), (n) => (lease = scratch.take(n))) : await this.backing.get(this.key(id));
      if (!blob) throw new SealError('MISSING', `chunk "${id}" of "${this.stream}" is missing from untrusted storage`);
      const plain = this.sealer.unseal(blob, { purpose: this.stream, chunkId: id, version: e.version }, into);
      if (blob.length !== e.sealedLength || plain.length !== e.plaintextLength) {
        // Unreachable unless the key was reused across stores: the header is authenticated. Kept as a guard.
        throw new SealError('TRUNCATED', `chunk "${id}" has ${blob.length} sealed bytes, ${e.sealedLength} were written`);
      }
      return plain;
    } finally {
      if (lease) scratch.give(lease);
    }
  }

  async delete(id: string): Promise<void> {
    await this.backing.delete(this.key(id));
    this.table.delete(id);
  }

  has(id: string): boolean {
    return this.table.has(id);
  }

  versionOf(id: string): number | undefined {
    return this.table.get(id)?.version;
  }

  plaintextLength(id: string): number | undefined {
    return this.table.get(id)?.plaintextLength;
  }

  ids(): string[] {
    return [...this.table.keys()];
  }

  /** The trusted table as bytes, for the caller to seal (e.g. into a checkpoint); see the rollback caveat above. */
  exportIndex(): Uint8Array {
    return new Uint8Array(Buffer.from(JSON.stringify({ stream: this.stream, entries: [...this.table] }), 'utf8'));
  }

  /** Restores a table produced by `exportIndex` (after unsealing it); replaces the current table. */
  importIndex(bytes: Uint8Array): void {
    const j = JSON.parse(Buffer.from(bytes).toString('utf8')) as { stream: string; entries: [string, Entry][] };
    if (j.stream !== this.stream) throw new SealError('PURPOSE_MISMATCH', `index is for stream "${j.stream}", not "${this.stream}"`);
    this.table.clear();
    for (const [id, e] of j.entries) this.table.set(id, e);
  }
}
