/**
 * Sealed parameters and optimizer state (managed memory, `parameters: 'sealed'`; docs/memory.md).
 *
 * Between uses, every parameter's value and every optimizer slot (momentum, Adam m/v) lives only as
 * AES-GCM chunks (≤ chunkBytes plaintext) in untrusted storage: streams `parameter:<name>` and
 * `optimizer:<slot>.<name>`, chunk id = index, version = the store's round counter (advanced once per
 * training step and once per wholesale write: the initial seal, a checkpoint restore), so every rewrite
 * of a chunk carries a strictly larger version. The version table stays here (in the enclave): an
 * altered, swapped, replayed, truncated or missing chunk raises a SealError naming the parameter.
 *
 * A leaf layer's own parameters become resident only around its work, in pooled buffers (charged to
 * the managed budget):
 *   forward    load(value)            … layer.forward …   release (unchanged: no reseal)
 *   backward   load(value), grad = 0  … layer.backward …  update: the optimizer's per-parameter rule,
 *              streaming each slot chunk by chunk (unseal chunk c, update w[c] and the slots, reseal
 *              chunk c), then reseal w as the new version and release w and the gradient.
 * So gradients never exist outside their layer's backward, and the update uses the W that backward
 * just used for dX (it runs after). States of an entry:
 *   plain    resident in plain arrays owned by the Parameter (before the first seal, during
 *            withResident, after unsealAll); `chunks` may still hold a valid sealed copy
 *   sealed   only in untrusted storage
 *   leased   unsealed into pool leases for one layer's forward or backward
 */
import { SealedChunkStore, type UntrustedBacking } from '../../tee/chunk-store.js';
import { SealError } from '../../tee/errors.js';
import type { Sealer } from '../../tee/seal.js';
import { type Parameter, parameterSize, TensorParameter } from '../layers/parameter.js';
import type { FusableOptimizer, SlotStream } from '../optim.js';
import type { TensorPool } from './tensor-pool.js';

const AT_REST =
  "managed memory: a parameter is resident only while its layer runs, its gradient only during the layer's backward; " +
  "read them inside `await memory.withResidentState(...)`, or attach the manager with parameters: 'resident'";

interface Entry {
  readonly p: TensorParameter;
  readonly n: number;
  readonly value: SealedChunkStore;
  /** One stream per optimizer slot, once an optimizer is attached. */
  slots: SealedChunkStore[];
  state: 'plain' | 'sealed' | 'leased';
  /** Whether the sealed chunks hold the current value (false: never sealed, or a plain copy may have changed). */
  valid: boolean;
}

export interface ParameterStoreStats {
  /** Bytes and chunks sealed, bytes unsealed, and the time spent (parameters and optimizer state). */
  sealedBytes: number;
  unsealedBytes: number;
  chunksWritten: number;
  sealMs: number;
  unsealMs: number;
}

export class ParameterStore {
  private readonly entries = new Map<Parameter, Entry>();
  private opt: FusableOptimizer | null = null;
  /** The optimizer's state: in its own arrays ('plain') or handed over and sealed here; valid as for entries. */
  private optState: 'plain' | 'sealed' = 'plain';
  private optValid = false;
  private gen = 0;
  private readonly chunkElems: number;
  readonly stats: ParameterStoreStats = { sealedBytes: 0, unsealedBytes: 0, chunksWritten: 0, sealMs: 0, unsealMs: 0 };

  constructor(
    private readonly pool: TensorPool,
    private readonly sealer: Sealer,
    private readonly backing: UntrustedBacking,
    chunkBytes: number,
  ) {
    this.chunkElems = chunkBytes / 4;
  }

  /** Registers parameters (they stay resident until the next `sealAll`). */
  adopt(ps: readonly Parameter[]): void {
    for (const p of ps) {
      if (this.entries.has(p)) continue;
      if (!(p instanceof TensorParameter)) throw new TypeError(`parameter '${p.name}' is not a TensorParameter (makeParameter): it cannot be sealed out`);
      const e: Entry = { p, n: parameterSize(p), value: this.stream(`parameter:${p.name}`), slots: [], state: 'plain', valid: false };
      this.entries.set(p, e);
      this.slotStreams(e);
    }
  }

  /** Forgets every parameter and the optimizer; refused while anything is sealed out (its only copy is outside). */
  forget(): void {
    if ([...this.entries.values()].some((e) => e.state !== 'plain') || this.optState !== 'plain') {
      throw new Error('managed memory: parameters are sealed out; `await memory.unsealParameters()` before detaching the manager');
    }
    this.entries.clear();
    this.opt = null;
  }

  /** The optimizer whose update runs inside backward (its state is sealed here from the next `sealAll`). */
  adoptOptimizer(opt: FusableOptimizer): void {
    if (this.opt === opt) return;
    if (this.opt !== null) throw new Error('managed memory: another optimizer is already attached');
    const mine = new Set(opt.parameterList);
    const odd = [...this.entries.keys()].find((p) => !mine.has(p)) ?? opt.parameterList.find((p) => !this.entries.has(p));
    if (odd !== undefined) throw new RangeError(`managed memory: the optimizer and the model differ in parameter '${odd.name}'`);
    this.opt = opt;
    this.optState = 'plain';
    this.optValid = false;
    for (const e of this.entries.values()) this.slotStreams(e);
  }

  get optimizer(): FusableOptimizer | null {
    return this.opt;
  }

  /** Seals whatever is resident in plain arrays (as a new version round) and drops the plain copies. */
  async sealAll(): Promise<void> {
    const plain = [...this.entries.values()].filter((e) => e.state === 'plain');
    const opt = this.optState === 'plain' ? this.opt : null;
    if (plain.length === 0 && opt === null) return;
    this.gen++;
    for (const e of plain) {
      if (!e.valid) await this.write(e.value, e.p.value);
      this.setState(e, 'sealed', null, null);
      e.valid = true;
    }
    if (opt === null) return;
    const st = opt.detachState();
    this.optState = 'sealed';
    if (!this.optValid) {
      for (const [i, p] of opt.parameterList.entries()) {
        for (let s = 0; s < st.length; s++) await this.write(this.entries.get(p)!.slots[s], st[s][i]);
      }
    }
    this.optValid = true;
  }

  /**
   * Makes everything resident in fresh plain arrays (gradients zero). `drop`: also deletes every sealed
   * chunk (the end of managed parameters: nothing is left in untrusted storage).
   */
  async unsealAll(drop: boolean): Promise<void> {
    for (const e of this.entries.values()) {
      if (e.state === 'leased') throw new Error(`managed memory: parameter '${e.p.name}' is in use by its layer`);
      if (e.state === 'sealed') {
        const v = new Float32Array(e.n);
        await this.read(e.value, v, e.p.name, 'value');
        this.setState(e, 'plain', v, new Float32Array(e.n));
      }
    }
    const opt = this.opt;
    if (opt !== null && this.optState === 'sealed') {
      const st = opt.slotNames.map(() => opt.parameterList.map((p) => new Float32Array(parameterSize(p))));
      for (const [i, p] of opt.parameterList.entries()) {
        for (let s = 0; s < st.length; s++) await this.read(this.entries.get(p)!.slots[s], st[s][i], p.name, `optimizer state '${opt.slotNames[s]}'`);
      }
      opt.attachState(st);
      this.optState = 'plain';
    }
    if (!drop) return;
    for (const e of this.entries.values()) {
      for (const s of [e.value, ...e.slots]) for (const id of s.ids()) await s.delete(id);
      e.valid = false;
    }
    this.optValid = false;
  }

  /**
   * Runs `fn` with every parameter and the optimizer state resident in plain arrays (checkpoints,
   * inspection), then seals them again: as a new version when `write`, else only dropped (the sealed
   * copies are still current; changes `fn` made would be lost).
   */
  async withResident<T>(fn: () => T | Promise<T>, write: boolean): Promise<T> {
    await this.unsealAll(false);
    try {
      return await fn();
    } finally {
      if (write) {
        for (const e of this.entries.values()) e.valid = false;
        this.optValid = false;
      }
      await this.sealAll();
    }
  }

  /** Unseals a layer's parameters into pool leases; for backward also a zero-filled gradient lease each. */
  async load(ps: readonly Parameter[], backward: boolean): Promise<void> {
    for (const [i, p] of ps.entries()) {
      const e = this.entry(p);
      if (e.state !== 'sealed') throw new Error(`managed memory: parameter '${p.name}' is not sealed out (${e.state}) when its layer starts`);
      const v = this.pool.f32(e.n);
      try {
        await this.read(e.value, v, p.name, 'value');
      } catch (err) {
        this.pool.release(v);
        this.release(ps.slice(0, i)); // all or nothing
        throw err;
      }
      this.setState(e, 'leased', v, backward ? this.pool.f32(e.n).fill(0) : null);
    }
  }

  /** After a forward: the leases go back (the sealed copy is still current, nothing to reseal). */
  release(ps: readonly Parameter[]): void {
    for (const p of ps) {
      const e = this.entry(p);
      if (e.state !== 'leased') continue;
      const v = e.p.peekValue()!;
      const g = e.p.peekGrad();
      this.setState(e, 'sealed', null, null);
      this.pool.release(v);
      if (g !== null) this.pool.release(g);
    }
  }

  /** Starts a training step's backward: a new version round and the optimizer's per-step scalars. */
  beginStep(): void {
    if (this.opt === null) {
      throw new Error("managed memory with sealed parameters applies the optimizer inside backward: call memory.attachOptimizer(optimizer) first (or use parameters: 'resident')");
    }
    this.gen++;
    this.opt.beginStep();
  }

  endStep(): void {
    this.opt?.endStep();
  }

  /** After a layer's backward: the optimizer updates each parameter (slots streamed), w is resealed, leases go back. */
  async update(ps: readonly Parameter[]): Promise<void> {
    const opt = this.opt!;
    for (const p of ps) {
      const e = this.entry(p);
      await opt.updateParameter(p, this.slotStream(e, opt));
      await this.write(e.value, p.value);
      this.release([p]);
    }
  }

  /** Chunk c of each slot unsealed into a pool lease, updated by the optimizer, resealed as this round's version. */
  private slotStream(e: Entry, opt: FusableOptimizer): SlotStream {
    const k = this.chunkElems;
    return {
      chunkElems: k,
      open: async (c) => {
        const len = Math.min(k, e.n - c * k);
        const bufs: Float32Array[] = [];
        try {
          for (let s = 0; s < e.slots.length; s++) {
            bufs.push(this.pool.f32(len));
            await this.readChunk(e.slots[s], c, bufs[s], e.p.name, `optimizer state '${opt.slotNames[s]}'`);
          }
        } catch (err) {
          for (const b of bufs) this.pool.release(b);
          throw err;
        }
        return bufs;
      },
      close: async (c, bufs) => {
        for (let s = 0; s < bufs.length; s++) {
          await this.writeChunk(e.slots[s], c, bufs[s]);
          this.pool.release(bufs[s]);
        }
      },
    };
  }

  private entry(p: Parameter): Entry {
    const e = this.entries.get(p);
    if (e === undefined) throw new Error(`managed memory: parameter '${p.name}' is not registered with the memory manager`);
    return e;
  }

  private setState(e: Entry, state: Entry['state'], v: Float32Array | null, g: Float32Array | null): void {
    e.state = state;
    e.p.setResidency(v, g, AT_REST);
  }

  private stream(purpose: string): SealedChunkStore {
    return new SealedChunkStore(this.sealer, this.backing, purpose);
  }

  private slotStreams(e: Entry): void {
    if (this.opt !== null && e.slots.length === 0) e.slots = this.opt.slotNames.map((s) => this.stream(`optimizer:${s}.${e.p.name}`));
  }

  private async write(s: SealedChunkStore, a: Float32Array): Promise<void> {
    for (let c = 0; c * this.chunkElems < a.length; c++) {
      await this.writeChunk(s, c, a.subarray(c * this.chunkElems, Math.min(a.length, (c + 1) * this.chunkElems)));
    }
  }

  private async read(s: SealedChunkStore, into: Float32Array, name: string, what: string): Promise<void> {
    for (let c = 0; c * this.chunkElems < into.length; c++) {
      await this.readChunk(s, c, into.subarray(c * this.chunkElems, Math.min(into.length, (c + 1) * this.chunkElems)), name, what);
    }
  }

  private async writeChunk(s: SealedChunkStore, c: number, a: Float32Array): Promise<void> {
    const t0 = performance.now();
    await s.put(String(c), new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.gen);
    this.stats.sealedBytes += a.byteLength;
    this.stats.chunksWritten++;
    this.stats.sealMs += performance.now() - t0;
  }

  private async readChunk(s: SealedChunkStore, c: number, into: Float32Array, name: string, what: string): Promise<void> {
    const t0 = performance.now();
    const id = String(c);
    try {
      await s.get(id, new Uint8Array(into.buffer, into.byteOffset, into.byteLength));
    } catch (e) {
      if (!(e instanceof SealError)) throw e;
      throw new SealError(e.code, `parameter '${name}' ${what} (chunk ${c}, version ${s.versionOf(id) ?? 'none'}) could not be unsealed: ${e.message}`);
    }
    this.stats.unsealedBytes += into.byteLength;
    this.stats.unsealMs += performance.now() - t0;
  }

  /** Chunks this store keeps in untrusted storage (one current copy per parameter and slot chunk). */
  get chunks(): number {
    let n = 0;
    for (const e of this.entries.values()) for (const s of [e.value, ...e.slots]) n += s.ids().length;
    return n;
  }

  /** Bytes of values and gradients resident in plain arrays (not pool leases): the fixed categories. */
  residentBytes(): { parameters: number; gradients: number } {
    let parameters = 0;
    let gradients = 0;
    for (const e of this.entries.values()) {
      if (e.state !== 'plain') continue;
      parameters += e.p.peekValue()?.byteLength ?? 0;
      gradients += e.p.peekGrad()?.byteLength ?? 0;
    }
    return { parameters, gradients };
  }
}
