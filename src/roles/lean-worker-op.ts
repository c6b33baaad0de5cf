/**
 * One op of the lean protocol at a worker (the formulas are protocol/lean-compute.ts). The
 * workers are joined by links w0 → w1 and w2 → w1 (worker 1 is the hub). The enclave sends
 * each op once, to w0, which relays it:
 *
 *   w0  from the enclave: the header, E and F (the fresh ones); each relayed to w1 as received
 *       (fresh ones are also kept; the others come from its cache); C0' → w1
 *   w1  from w0: the header, E, F (fresh ones; else cached), C0';  from w2 (online): Z'
 *       S = C1' + C0' + Z' → every subscribed enclave
 *   w2  from the enclave: the header;  Z' → w1
 *
 * So per op the enclave writes to two connections (w0, and w2's header) and reads one (S).
 *
 * Every tensor travels packed (3 bytes per element) and is checked on receipt: its length
 * against the header, its values against the centred range (whoever sent it: the enclave
 * or another untrusted worker). The masked operands are kept per (layer, kind) for the rest
 * of the step: a newer version replaces the older one, so the cache holds at most three
 * tensors per layer, and asking for a version that is not held is a protocol error.
 */
import type { Backend } from '../backend/backend.js';
import { bilinearSizes } from '../backend/bilinear.js';
import { addModP } from '../field/share.js';
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';
import type { NamedBuffers } from '../backend/named-buffers.js';
import type { EnclaveKernels } from '../protocol/enclave-kernels.js';
import { computeLean0, computeLean1, computeLean2, type LeanWorker0Keys, type LeanWorker1Keys, type LeanWorker2Keys } from '../protocol/lean-compute.js';
import type { LeanAttempt } from '../protocol/lean-op.js';
import { ProtocolError, checkPackedTensor } from '../protocol/messages.js';
import type { OperandRef } from '../protocol/op-attempt.js';

/** A worker's links to the other workers in a lean session. */
export interface LeanLinks {
  /** w0 and w2: the link to worker 1. */
  readonly w1?: Connection;
  /** w1: the links from worker 0 (which also brings the op requests) and (online) worker 2. */
  readonly w0?: Connection;
  readonly w2?: Connection;
}

/** Largest total of cached operand elements (16 GiB as Int32): far above any model here, a bound on a runaway enclave. */
export const MAX_CACHED_ELEMENTS = 2 ** 32;

/** The masked operand versions a worker holds for the current step, one per (layer, kind). */
export class OperandCache {
  readonly #held = new Map<string, { version: number; data: Int32Array }>();
  #elements = 0;

  /** A buffer for version `r` of (layer, kind) of n elements, which becomes the held one. */
  slot(layer: number, r: OperandRef, n: number): Int32Array {
    const key = `${layer}/${r.kind}`;
    const old = this.#held.get(key);
    let data = old && old.data.length === n ? old.data : null;
    if (!data) {
      this.#elements += n - (old?.data.length ?? 0);
      if (this.#elements > MAX_CACHED_ELEMENTS) throw new ProtocolError(`operand cache would exceed ${MAX_CACHED_ELEMENTS} elements`);
      data = new Int32Array(n);
    }
    this.#held.set(key, { version: r.version, data });
    return data;
  }

  /** Version `r` of (layer, kind), which must be held. */
  get(layer: number, r: OperandRef, n: number): Int32Array {
    const h = this.#held.get(`${layer}/${r.kind}`);
    if (!h || h.version !== r.version || h.data.length !== n) {
      throw new ProtocolError(`operand ${r.kind} v${r.version} of layer ${layer} is not held (${h ? `have v${h.version}` : 'none'}); it must be sent fresh`);
    }
    return h.data;
  }

  /** Drops a slot whose contents are not valid (a failed receive). */
  drop(layer: number, r: OperandRef): void {
    const h = this.#held.get(`${layer}/${r.kind}`);
    if (h && h.version === r.version) h.version = -1;
  }
}

/**
 * The parts of the last op this worker computed or received, kept until its next op so that an enclave whose
 * check of S failed can ask each worker for its own part (protocol/lean-culprit.ts). They are pool buffers
 * (valid until the next op), never copies; the enclave asks before it sends another op.
 */
export class RecentParts {
  #opId = -1;
  #parts: readonly (readonly [string, Int32Array])[] = [];

  set(opId: number, parts: readonly (readonly [string, Int32Array])[]): void {
    this.#opId = opId;
    this.#parts = parts;
  }

  clear(): void {
    this.#opId = -1;
    this.#parts = [];
  }

  /** The parts of op `opId` (its name and values), or none when that is not the last op. */
  of(opId: number): readonly (readonly [string, Int32Array])[] {
    return opId === this.#opId ? this.#parts : [];
  }
}

export interface LeanWorkerContext {
  readonly party: 0 | 1 | 2;
  readonly backend: Backend;
  readonly kernels: EnclaveKernels;
  readonly keys: LeanWorker0Keys | LeanWorker1Keys | LeanWorker2Keys;
  readonly links: LeanLinks;
  readonly cache: OperandCache;
  readonly pool: NamedBuffers;
  /** Subscribed enclaves (worker 1's result goes to each). */
  readonly subscribers: () => readonly Connection[];
  /** Observer of every received tensor: its values and its packed wire bytes (auditing, the privacy tests); must not keep them. */
  readonly onReceive: ((what: string, data: Int32Array, at: LeanAttempt, wire: Uint8Array) => void) | null;
  /** Adds the time spent computing. */
  readonly busy: (ms: number) => void;
  /** Testing only (fault-injection.ts): sees this worker's own result before it is used. */
  readonly fault: ((out: Int32Array) => void) | null;
  /** The last op's parts, for a culprit request. */
  readonly recent: RecentParts;
}

function link(l: Connection | undefined, name: string): Connection {
  if (!l) throw new ProtocolError(`this lean session has no link to ${name}`);
  return l;
}

/** Receives a packed tensor of n elements (type `type`, this op) from `from` into `out`, checked. */
async function receiveInto(
  ctx: LeanWorkerContext,
  from: Connection,
  type: number,
  opId: number,
  n: number,
  what: string,
  at: LeanAttempt,
  out: Int32Array,
  forward?: (packed: Uint8Array) => Promise<void>,
): Promise<void> {
  const m = await from.expect(type, { opId });
  try {
    const packed = checkPackedTensor(m.dtype === 'int24' ? m.data : null, n, `${what} from ${from.peer}`);
    const sent = forward?.(packed);
    const ok = ctx.kernels.unpack(packed, out);
    await sent;
    if (!ok) throw new ProtocolError(`${what} from ${from.peer}: values outside the centred range of Z_P`);
    ctx.onReceive?.(what, out, at, packed);
  } finally {
    m.release();
  }
}

/** The operand on `side`: when fresh, it arrives from `from` (and is relayed to `to`); else it comes from the cache. */
async function operand(
  ctx: LeanWorkerContext,
  at: LeanAttempt,
  side: 0 | 1,
  opId: number,
  label: string,
  from: Connection,
  to: Connection | null,
): Promise<Int32Array> {
  const r = at.operands[side];
  const sz = bilinearSizes(at.op);
  const n = side === 0 ? sz.a : sz.b;
  if (!r.fresh) return ctx.cache.get(at.layer, r, n);
  const out = ctx.cache.slot(at.layer, r, n);
  const forward = to ? (data: Uint8Array) => to.send({ type: MsgType.Shares, opId, label, dtype: 'int24', data }) : undefined;
  try {
    await receiveInto(ctx, from, MsgType.Shares, opId, n, side === 0 ? 'E' : 'F', at, out, forward);
  } catch (err) {
    ctx.cache.drop(at.layer, r);
    throw err;
  }
  return out;
}

/**
 * Serves one lean op whose header came from `feeder` (w0, w2: the enclave; w1: worker 0's link). `header`: the
 * request as received, which w0 relays to w1.
 */
export async function serveLeanOp(
  ctx: LeanWorkerContext,
  feeder: Connection,
  opId: number,
  label: string,
  at: LeanAttempt,
  header: unknown,
): Promise<void> {
  const sz = bilinearSizes(at.op);
  const out = ctx.pool.int32('out', sz.c);
  const packed = ctx.pool.uint8('packed', 3 * sz.c);
  const result = (data: Uint8Array) => ({ type: MsgType.Result, opId, label, dtype: 'int24' as const, data });
  const timed = (f: () => void, own: Int32Array) => {
    const t0 = performance.now();
    f();
    ctx.busy(performance.now() - t0);
    ctx.fault?.(own);
  };
  ctx.recent.clear();
  if (ctx.party === 0) {
    const w1 = link(ctx.links.w1, 'worker 1');
    const relayed = w1.send({ type: MsgType.OpRequest, opId, label, dtype: 'json', value: header });
    const e = await operand(ctx, at, 0, opId, label, feeder, w1);
    const f = await operand(ctx, at, 1, opId, label, feeder, w1);
    await relayed;
    timed(() => computeLean0(ctx.backend, ctx.kernels, ctx.keys as LeanWorker0Keys, at, e, f, out, ctx.pool), out);
    ctx.recent.set(opId, [["C0'", out]]);
    await w1.send(result(ctx.kernels.pack(out, packed)));
  } else if (ctx.party === 1) {
    const w0 = link(ctx.links.w0, 'worker 0');
    const e = await operand(ctx, at, 0, opId, label, w0, null);
    const f = await operand(ctx, at, 1, opId, label, w0, null);
    const own = ctx.pool.int32('own', sz.c);
    timed(() => computeLean1(ctx.backend, ctx.kernels, ctx.keys as LeanWorker1Keys, at, e, f, own, ctx.pool), own);
    const kept: [string, Int32Array][] = [["C1'", own]];
    // S = C1' + C0' (+ Z'): the first sum starts from C1' (kept for a culprit request), no copy
    let sum = own;
    for (const [from, what] of [[w0, "C0'"], ...(ctx.links.w2 ? [[ctx.links.w2, "Z'"]] : [])] as [Connection, string][]) {
      const part = ctx.pool.int32(`got ${what}`, sz.c);
      await receiveInto(ctx, from, MsgType.Result, opId, sz.c, what, at, part);
      sum = addModP(sum, part, out);
      kept.push([what, part]);
    }
    ctx.recent.set(opId, kept);
    ctx.kernels.pack(out, packed);
    await Promise.all(ctx.subscribers().map((s) => s.send(result(packed))));
  } else {
    const w1 = link(ctx.links.w1, 'worker 1');
    timed(() => computeLean2(ctx.backend, ctx.kernels, ctx.keys as LeanWorker2Keys, at, out, ctx.pool), out);
    ctx.recent.set(opId, [["Z'", out]]);
    await w1.send(result(ctx.kernels.pack(out, packed)));
  }
}

/**
 * Answers an enclave's culprit request for op `opId` (protocol/lean-culprit.ts): a Control
 * `{kind: 'parts', names}` and then one packed Result frame per named part, all with that op id. A worker
 * that no longer holds the op answers with no names.
 */
export async function answerParts(ctx: LeanWorkerContext, conn: Connection, opId: number): Promise<void> {
  const parts = ctx.recent.of(opId);
  await conn.send({ type: MsgType.Control, opId, dtype: 'json', value: { kind: 'parts', names: parts.map(([name]) => name) } });
  for (const [name, data] of parts) {
    // a fresh buffer per part: sends do not copy, and this rare path must not share the op's buffers
    await conn.send({ type: MsgType.Result, opId, label: name, dtype: 'int24', data: ctx.kernels.pack(data, new Uint8Array(3 * data.length)) });
  }
}
