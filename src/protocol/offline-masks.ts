/**
 * Offline (two-worker) mode: the enclave precomputes the third reconstruction part
 * itself and keeps it sealed in untrusted storage until the online phase needs it
 * (docs/protocol.md "Modes"). For an op attempt `at` (stream ids as in op-streams.ts):
 *
 *   U, V      goten: streams U, V of `at`;  lean: S0 + D of the attempt's operand versions
 *   CM0, CM1  streams of `at`                    (the enclave holds every key)
 *   Z̃ = f(U, V) + CM0 + CM1   mod P          (the enclave's own backend)
 *
 * so that the online reconstruction is C = centre(C0' + C1' + Z̃) (lean: S + Z̃ with
 * S = C0' + C1' from worker 1) with no output-mask draws at all (mask-source.ts gives the
 * algebra). Z̃ depends on no data, only on the keys, the attempt number and the operand
 * versions, so it can be made any time before the attempt.
 *
 * Storage: each Z̃ is one chunk of a SealedChunkStore (src/tee): AES-256-GCM under
 * an ephemeral key that never leaves this object, chunk id "layer/pass/attempt"
 * and version in the authenticated header, so the untrusted host cannot swap,
 * replay, truncate or alter a chunk without the unseal failing. The trusted side
 * also records each chunk's op geometry; a chunk is used once and deleted.
 *
 * Attempts that were not precomputed — overflow retries (they take fresh attempt
 * numbers), a last partial batch (other geometry), the very first step before any
 * offline phase — are computed on demand inside the online phase and counted.
 *
 * Managed memory (attachMemory): U, V, the masks, Z̃ and the part handed to the
 * executor are leases on the enclave's budgeted pool, returned after each attempt.
 *
 * Offline phases: explicitly (`precompute`, `precomputeSteps`), or automatically
 * at the end of a training step (`endStep`) whenever the next step's chunks are
 * missing, for as many steps as fit in `budgetBytes` (at most `maxSteps`). The
 * step's op list is learned from the previous step: its first attempt of every
 * (layer, pass), and how far each counter (attempts, operand versions) advanced in
 * that step; the k-th step to come is predicted to use each counter's next value
 * plus k - 1 such advances.
 */
import { randomBytes } from 'node:crypto';
import type { Backend } from '../backend/backend.js';
import type { TensorPool } from '../nn/memory/tensor-pool.js';
import { type BilinearOp, applyBilinearModP, bilinearSizes } from '../backend/bilinear.js';
import { sumModP } from '../field/share.js';
import { MemoryBacking, SealedChunkStore, type UntrustedBacking } from '../tee/chunk-store.js';
import { Sealer } from '../tee/seal.js';
import { NamedBuffers } from '../backend/named-buffers.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import { maskStream } from './enclave-op.js';
import { leanMask } from './lean-compute.js';
import { LeaseSet, releaseOnce } from './managed-buffers.js';
import type { MaskSource, MaskSourceStats, Part } from './mask-source.js';
import { type AttemptCounter, type MaskKeyName, type MaskKeys, PASS_CODE } from './op-streams.js';
import type { OpAttempt } from './op-attempt.js';
import type { ProtocolName } from './variant.js';

export interface OfflineMaskOptions {
  /** Whose masks (default lean): per op attempt (goten) or per operand version (lean). */
  readonly protocol?: ProtocolName;
  readonly keys: MaskKeys;
  /** The enclave's own backend for f(U, V). */
  readonly backend: Backend;
  readonly kernels: EnclaveKernels;
  /** Untrusted storage for the sealed chunks (default: host memory). */
  readonly backing?: UntrustedBacking;
  /** Automatic offline phases at the end of a step keep at most this many bytes precomputed (0: off). Default 256 MiB. */
  readonly budgetBytes?: number;
  /** …and at most this many steps ahead. Default 8. */
  readonly maxSteps?: number;
}

/**
 * One op site of a training step: an attempt as it happened in a learned step, and how far each of
 * its numbers advances per step (attempt; operand versions, lean).
 */
export interface OpSite {
  readonly at: OpAttempt;
  readonly steps: { readonly attempt: number; readonly a: number; readonly b: number };
}

export interface OfflinePhaseReport {
  readonly attempts: number;
  readonly bytes: number;
  readonly ms: number;
  readonly cpuMs: number;
}

export const MASK_PRODUCTS_STREAM = 'mask-products';

function chunkId(layer: number, pass: BilinearOp['pass'], attempt: number): string {
  return `${layer}/${PASS_CODE[pass]}/${attempt}`;
}

/** What a precomputed Z̃ depends on besides its chunk id: the geometry and (lean) the operand versions. */
function signature(at: OpAttempt): string {
  return JSON.stringify([at.op, at.operands?.map((r) => [r.kind, r.version])]);
}

/** The attempt of `site` in the k-th step to come (k >= 1), the counters now at `state`. */
function predict(site: OpSite, k: number, state: Record<string, number>): OpAttempt {
  const { at, steps } = site;
  const next = (key: string, inc: number) => (state[key] ?? 0) + (k - 1) * inc;
  const ops = at.operands;
  return {
    ...at,
    attempt: next(`${at.layer}/${at.op.pass}`, steps.attempt),
    ...(ops
      ? {
          operands: [
            { ...ops[0], version: next(`${at.layer}/${ops[0].kind}`, steps.a) },
            { ...ops[1], version: next(`${at.layer}/${ops[1].kind}`, steps.b) },
          ] as const,
        }
      : {}),
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export class OfflineMaskSource implements MaskSource {
  readonly mode = 'offline' as const;
  readonly outputMasks: readonly MaskKeyName[] = [];
  readonly #o: OfflineMaskOptions;
  readonly #store: SealedChunkStore;
  /** Trusted record: chunk id → geometry it was computed for. */
  readonly #planned = new Map<string, string>();
  readonly #pool = new NamedBuffers();
  /** Managed memory: the budgeted pool per-attempt buffers are leased from (null: #pool). */
  #mem: TensorPool | null = null;
  /** Attempts seen in the current step (the first of each layer/pass), and the last learned step's sites. */
  #current = new Map<string, OpAttempt>();
  #template: OpSite[] = [];
  #served = 0;
  #onDemand = 0;
  #onDemandMs = 0;
  #offlineMs = 0;
  #offlineCpuMs = 0;
  #precomputed = 0;

  constructor(o: OfflineMaskOptions) {
    this.#o = o;
    this.#store = new SealedChunkStore(Sealer.fromKey(new Uint8Array(randomBytes(32))), o.backing ?? new MemoryBacking(), MASK_PRODUCTS_STREAM);
  }

  /** Z̃ = f(U, V) + CM0 + CM1 for attempt `at`, into out. */
  compute(at: OpAttempt, out: Int32Array): Int32Array {
    const { keys, kernels, backend } = this.#o;
    const sz = bilinearSizes(at.op);
    const leases = this.#mem ? new LeaseSet(this.#mem) : null;
    const buf = leases ?? this.#pool;
    try {
      let u: Int32Array;
      let v: Int32Array;
      if ((this.#o.protocol ?? 'lean') === 'lean') {
        if (!at.operands) throw new Error('offline mask source (lean): the attempt has no operand versions');
        u = leanMask(kernels, keys, at.layer, at.operands[0], sz.a, buf, 'u');
        v = leanMask(kernels, keys, at.layer, at.operands[1], sz.b, buf, 'v');
      } else {
        u = kernels.fillCentred(maskStream(keys, 'U', at), buf.int32('u', sz.a));
        v = kernels.fillCentred(maskStream(keys, 'V', at), buf.int32('v', sz.b));
      }
      applyBilinearModP(backend, at.op, u, v, out);
      const m0 = kernels.fillCentred(maskStream(keys, 'CM0', at), buf.int32('cm0', sz.c));
      const m1 = kernels.fillCentred(maskStream(keys, 'CM1', at), buf.int32('cm1', sz.c));
      return sumModP([out, m0, m1], out);
    } finally {
      leases?.release();
    }
  }

  /** An int32 buffer for one attempt and the function that ends it (a no-op for the private pool). */
  #take(name: string, n: number): { data: Int32Array; release: () => void } {
    const mem = this.#mem;
    if (mem === null) return { data: this.#pool.int32(name, n), release: () => {} };
    const data = mem.i32(n);
    return { data, release: releaseOnce(() => mem.release(data)) };
  }

  /** An offline phase: computes and seals Z̃ for every listed attempt. */
  async precompute(plan: readonly OpAttempt[]): Promise<OfflinePhaseReport> {
    const t0 = performance.now();
    const c0 = cpuMs();
    let bytes = 0;
    for (const at of plan) {
      const id = chunkId(at.layer, at.op.pass, at.attempt);
      const zb = this.#take('z', bilinearSizes(at.op).c);
      try {
        const z = this.compute(at, zb.data);
        await this.#store.put(id, new Uint8Array(z.buffer, z.byteOffset, z.byteLength));
        bytes += z.byteLength;
      } finally {
        zb.release(); // sealed (a copy) before put returns
      }
      this.#planned.set(id, signature(at));
    }
    const ms = performance.now() - t0;
    const cpu = cpuMs() - c0;
    this.#offlineMs += ms;
    this.#offlineCpuMs += cpu;
    this.#precomputed += plan.length;
    return { attempts: plan.length, bytes, ms, cpuMs: cpu };
  }

  /** The attempts of the next `steps` steps of `sites`, the executor's counters now at `attempts`. */
  static plan(sites: readonly OpSite[], steps: number, attempts: AttemptCounter): OpAttempt[] {
    const state = attempts.getState();
    const plan: OpAttempt[] = [];
    for (let k = 1; k <= steps; k++) for (const s of sites) plan.push(predict(s, k, state));
    return plan;
  }

  /** An offline phase for the next `steps` steps (default: the last learned step's op sites). */
  precomputeSteps(steps: number, attempts: AttemptCounter, sites: readonly OpSite[] = this.#template): Promise<OfflinePhaseReport> {
    return this.precompute(OfflineMaskSource.plan(sites, steps, attempts));
  }

  /** The op sites of the last completed step. */
  template(): readonly OpSite[] {
    return this.#template;
  }

  async request(): Promise<void> {}

  async take(at: OpAttempt, _opId: number, n: number): Promise<Part> {
    const key = `${at.layer}/${at.op.pass}`;
    if (!this.#current.has(key)) this.#current.set(key, at);
    const part = this.#take('part', n);
    const out = part.data;
    try {
      const id = chunkId(at.layer, at.op.pass, at.attempt);
      const sig = this.#planned.get(id);
      if (sig !== undefined) {
        this.#planned.delete(id);
        if (sig === signature(at) && bilinearSizes(at.op).c === n) {
          await this.#store.get(id, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
          await this.#store.delete(id);
          this.#served++;
          return part;
        }
        await this.#store.delete(id); // precomputed for another geometry: never used
      }
      const t0 = performance.now();
      this.compute(at, out);
      this.#onDemandMs += performance.now() - t0;
      this.#onDemand++;
      return part;
    } catch (err) {
      part.release(); // nobody else holds it: safe to reuse
      throw err;
    }
  }

  /**
   * Ends a step: its op sites (first attempt of every layer/pass) become the template of the next
   * offline phase; each number advances per step by as much as its counter (`attempts`, the executor's)
   * advanced from its value in that site to the end of the step.
   */
  learnStep(attempts: AttemptCounter): void {
    if (this.#current.size > 0) {
      const end = attempts.getState();
      const inc = (key: string, v: number) => Math.max(1, (end[key] ?? v + 1) - v);
      this.#template = [...this.#current.values()].map((at) => ({
        at,
        steps: {
          attempt: inc(`${at.layer}/${at.op.pass}`, at.attempt),
          a: at.operands ? inc(`${at.layer}/${at.operands[0].kind}`, at.operands[0].version) : 0,
          b: at.operands ? inc(`${at.layer}/${at.operands[1].kind}`, at.operands[1].version) : 0,
        },
      }));
    }
    this.#current = new Map();
  }

  /** Learns the step's op sites; if the next step's chunks are missing, runs an offline phase. */
  async endStep(attempts: AttemptCounter): Promise<void> {
    this.learnStep(attempts);
    const budget = this.#o.budgetBytes ?? 256 * 2 ** 20;
    if (budget <= 0 || this.#template.length === 0) return;
    const next = OfflineMaskSource.plan(this.#template, 1, attempts);
    if (next.every((at) => this.#planned.has(chunkId(at.layer, at.op.pass, at.attempt)))) return;
    const perStep = this.#template.reduce((s, t) => s + 4 * bilinearSizes(t.at.op).c, 0);
    const steps = Math.max(1, Math.min(this.#o.maxSteps ?? 8, Math.floor(budget / perStep)));
    await this.precomputeSteps(steps, attempts);
  }

  stats(): MaskSourceStats {
    return {
      mode: 'offline',
      served: this.#served,
      onDemand: this.#onDemand,
      offlineMs: this.#offlineMs,
      offlineCpuMs: this.#offlineCpuMs,
      precomputed: this.#precomputed,
      stored: this.#planned.size,
      onDemandMs: this.#onDemandMs,
    };
  }

  /** Managed memory: per-attempt buffers become leases on `pool` (null: private, reused by name). */
  attachMemory(pool: TensorPool | null): void {
    this.#mem = pool;
    this.#pool.clear();
  }

  /** Bytes of its private per-attempt buffers (0 in managed mode). */
  memoryBytes(): number {
    return this.#pool.bytes();
  }

  /** Deletes every chunk still in storage. */
  async close(): Promise<void> {
    for (const id of this.#store.ids()) await this.#store.delete(id).catch(() => {});
    this.#planned.clear();
  }

  /** The session's keys are gone (recovery.ts): so are its products; a new source serves the new session. */
  abandon(): Promise<void> {
    return this.close();
  }
}
