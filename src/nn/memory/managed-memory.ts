/**
 * Managed memory mode for a model (named for all it manages: activations, saved tensors, parameters and
 * optimizer state, not activations alone): keeps the enclave's tensor memory within a budget (default 90 MiB,
 * the usable SGX1 EPC) by (1) giving every layer output, gradient and temporary a pooled, reference-counted
 * buffer that is returned as soon as its consumer is done, and (2) sealing the tensors layers save for
 * backward out to untrusted storage when keeping them would crowd the working set, and streaming them
 * back chunk by chunk just before the layer's backward, and (3) by default keeping parameters and optimizer
 * state sealed out between uses (parameter-store.ts): each leaf layer's own parameters are unsealed into
 * pooled buffers for its forward and its backward, gradients exist only during that backward, and the
 * optimizer update runs right after it (attachOptimizer). Numerics are untouched: the same kernels run on
 * the same values, only the buffers differ, so training is bit-identical with and without it (tested).
 *
 * It is the layers' `ctx.mem` in managed mode (layer-memory.ts; Model.attachMemory installs it): layer
 * buffers are pool leases, saved tensors TensorStore records (pooled-calls.ts). The model and the chains
 * (sequential.ts) call the hooks: beginForward → beginLayer/endLayer around every layer's forward … →
 * beginBackward → beginLayer/endLayer around every layer's backward … → endBackward (a composite layer's
 * own hooks only end its call's leases; its children get the full hooks).
 * Residency policy, before each leaf layer: while
 *   leased bytes + external saved bytes + fixed bytes + room > budget
 * seal the oldest resident saved tensor (backward uses it last), where room = the layer's working set as
 * measured the last time it ran in this phase at this batch size (a pool watermark: output, temporaries,
 * parameter and gradient leases, protocol operands and results), plus what it restores or an external input
 * it may keep; before the first measurement, reserveFactor × the largest buffer this step has needed plus
 * its parameters. The budget bounds managed + fixed.
 *
 * Counted and bounded: the pool (every leased and free buffer — with an executor that supports it also the
 * protocol's per-op operands, shares and received results, see LinearExecutor.attachMemory) and saved
 * tensors in buffers it does not own (the input batch). Counted but not offloaded (fixed): parameters,
 * gradients and optimizer state while resident in plain arrays ('resident' mode; in 'sealed' mode only
 * before the first seal and inside withResidentState), BN running statistics, executor buffers outside the pool (when it reports
 * them; none once attached), the native backend's workspace and the idle buffers of the transport's own
 * receive pool (frames that do not land in the pool). Not counted: the data set, per-channel BN vectors,
 * JS objects, the runtime itself, garbage awaiting collection (docs/memory.md).
 */
import { randomBytes } from 'node:crypto';
import { MemoryBacking, type UntrustedBacking } from '../../tee/chunk-store.js';
import { MemoryBudget } from '../../tee/memory-budget.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../../tee/provider.js';
import { Sealer } from '../../tee/seal.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type Parameter, parameterSize } from '../layers/parameter.js';
import type { FusableOptimizer, Optimizer } from '../optim.js';
import type { ManagedMemoryOptions, ManagedMemoryReport, FixedSources, TrackedModel } from './managed-memory-types.js';
import type { LayerMemory, MemoryOwner } from './layer-memory.js';
import { fixedMemory, tuneMallocOnce } from './fixed-memory.js';
import { ParameterStore } from './parameter-store.js';
import { PooledCalls } from './pooled-calls.js';
import { sizeClass, TensorPool } from './tensor-pool.js';
import { MAX_CHUNK_BYTES, TensorStore } from './tensor-store.js';

export type { ManagedMemoryOptions, ManagedMemoryReport, FixedSources, TrackedModel } from './managed-memory-types.js';

export class ManagedMemory implements LayerMemory {
  readonly budget: MemoryBudget;
  readonly pool: TensorPool;
  readonly store: TensorStore;
  readonly backing: UntrustedBacking;
  readonly reserveFactor: number;
  /** Sealed parameters and optimizer state; null with parameters: 'resident'. */
  readonly params: ParameterStore | null;
  private readonly largestByBatch = new Map<number, number>();
  /** Measured working set per leaf layer and `phase:batch` (see beginLayer). */
  private readonly workingSets = new WeakMap<MemoryOwner, Map<string, number>>();
  /** The layers' calls: their leases and saved tensors. */
  private readonly calls: PooledCalls;
  private batch = 0;
  private model: TrackedModel | null = null;
  private sources: FixedSources = {};
  private steps = 0;
  private readonly collect: (() => void) | null;

  constructor(o: ManagedMemoryOptions = {}) {
    this.budget = new MemoryBudget(o.budgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES);
    this.pool = new TensorPool(this.budget);
    this.backing = o.backing ?? new MemoryBacking();
    const sealer = o.sealer ?? Sealer.fromKey(randomBytes(32));
    this.store = new TensorStore(this.budget, this.pool, sealer, this.backing, o.chunkBytes ?? MAX_CHUNK_BYTES);
    this.calls = new PooledCalls(this.pool, this.store);
    const mode = o.parameters ?? 'sealed';
    if (mode !== 'sealed' && mode !== 'resident') throw new RangeError(`parameters must be 'sealed' or 'resident', got ${String(mode)}`);
    this.params = mode === 'sealed' ? new ParameterStore(this.pool, sealer, this.backing, o.chunkBytes ?? MAX_CHUNK_BYTES) : null;
    this.reserveFactor = o.reserveFactor ?? 4;
    this.collect = o.collect ?? null;
    if (o.tuneMalloc ?? true) tuneMallocOnce();
    if (!(this.reserveFactor >= 0)) throw new RangeError(`reserveFactor must be ≥ 0, got ${this.reserveFactor}`);
  }

  /** Called by the model when it is attached; its parameters, buffers and executor count as fixed memory. */
  trackModel(m: TrackedModel | null): void {
    if (m === null) this.params?.forget();
    else this.params?.adopt(m.parameters());
    this.model = m;
    this.updateFixed();
  }

  /** Whether parameters are sealed out between uses (then beginLayer/endLayer unseal and reseal them per layer). */
  get sealsParameters(): boolean {
    return this.params !== null;
  }

  /**
   * Sealed mode: the manager takes over the optimizer's state (sealed from the next forward) and runs its
   * update per parameter inside backward instead of optimizer.step() (`fusesOptimizer`; trainStep attaches
   * it on its first step and skips step()). Resident mode: its state is only counted.
   */
  attachOptimizer(opt: Optimizer): void {
    if (this.params !== null) {
      const f = opt as Partial<FusableOptimizer>;
      if (typeof f.updateParameter !== 'function' || typeof f.detachState !== 'function') {
        throw new TypeError('managed memory with sealed parameters needs an optimizer with a per-parameter update (SGD, Adam)');
      }
      this.params.adoptOptimizer(opt as FusableOptimizer);
    }
    this.track({ optimizer: opt });
  }

  /** Whether model.backward also applies the optimizer update (sealed mode with an attached optimizer). */
  get fusesOptimizer(): boolean {
    return (this.params?.optimizer ?? null) !== null;
  }

  /**
   * Runs `fn` with every parameter and the optimizer state resident (checkpoint capture or restore,
   * inspection); afterwards they are sealed again, as a new version unless `write: false` (read-only
   * use: the sealed copies stay current). Resident mode: just runs `fn`.
   */
  async withResidentState<T>(fn: () => T | Promise<T>, o: { write?: boolean } = {}): Promise<T> {
    if (this.params === null) return fn();
    try {
      return await this.params.withResident(() => {
        this.updateFixed();
        return fn();
      }, o.write ?? true);
    } finally {
      this.updateFixed();
    }
  }

  /** Seals whatever is still resident in plain arrays now (otherwise the next forward does). */
  async sealParameters(): Promise<void> {
    await this.params?.sealAll();
    this.updateFixed();
  }

  /**
   * Ends sealing for now: parameters and optimizer state resident again in plain arrays, their sealed
   * chunks deleted (the manager can then be detached). The next forward seals them again.
   */
  async unsealParameters(): Promise<void> {
    await this.params?.unsealAll(true);
    this.updateFixed();
  }

  /** Adds sources of fixed memory (optimizer state, native workspace). */
  track(s: FixedSources): void {
    this.sources = { ...this.sources, ...s };
    this.updateFixed();
  }

  /** Re-reads the fixed categories (they change only when buffers are first sized). */
  updateFixed(): void {
    const fixed = fixedMemory(this.model, this.params, this.sources);
    for (const c of Object.keys(fixed) as (keyof typeof fixed)[]) this.budget.setFixed(c, fixed[c]!);
    this.pool.dropFreeFor(0); // fixed memory that grew (a backend's workspace) displaces idle pool buffers
  }

  /** Start of a model forward: finishes deferred deletions; a training forward starts a new version. */
  async beginForward(training: boolean, batch: number): Promise<void> {
    await this.params?.sealAll();
    await this.store.flush();
    if (training) this.store.beginStep();
    this.batch = batch;
    this.pool.resetLargest(this.largestByBatch.get(batch) ?? 0);
    this.updateFixed();
  }

  /**
   * Before a leaf layer's forward or backward (chain hook; nothing for a composite layer, whose children are
   * hooked). Makes room for the layer's working set — the most pool bytes it leased at once beyond what was
   * in use when it started, measured the last time it ran in this phase at this batch size (first time:
   * reserveFactor × the largest buffer plus its parameters) — and, in forward, for an `input` outside the
   * pool it may keep, in backward, for the saved tensors it restores; then restores those chunk by chunk,
   * opens the working-set measurement and, in sealed mode, unseals its own parameters (backward: with
   * zeroed gradient leases).
   */
  async beginLayer(l: MemoryOwner, backward: boolean, input: Tensor | null): Promise<void> {
    if (l.composite) return;
    const own = this.sealedOwn(l);
    const recs = backward ? (this.calls.savedIfAny(l)?.records() ?? []) : [];
    let restore = 0;
    for (const r of recs) {
      r.pinned = true;
      if (r.view === null) restore += sizeClass(r.byteLength);
    }
    const measured = this.workingSets.get(l)?.get(this.phaseKey(backward));
    const params = own.reduce((a, p) => a + sizeClass(4 * parameterSize(p)), 0) * (backward ? 2 : 1);
    // an input the pool does not own (the batch) is charged as saved-external if the layer keeps it,
    // outside the pool's working-set measurement
    const external = input !== null && !this.pool.owns(input.data) ? input.data.byteLength : 0;
    await this.makeRoom(restore + external + (measured ?? this.reserveFactor * this.pool.largestTaken + params));
    for (const r of recs) await this.store.restore(r);
    if (restore > 0) this.collect?.();
    this.pool.openMark();
    if (own.length === 0) return;
    try {
      await this.params!.load(own, backward);
    } catch (e) {
      this.pool.closeMark(); // the chain calls endLayer only for a layer that started
      throw e;
    }
  }

  /**
   * After it (chain hook, after the chain has released the layer's input or incoming gradient): the call's
   * leases end, except the one it returned (`out`, now the caller's) and the holds of saved records; forward
   * drops its parameter copies (unchanged), backward runs the optimizer update and reseals them; the
   * working set is recorded; a backward releases the layer's saved tensors (shared ones stay for their
   * other holder) and an inference forward keeps nothing saved. `ok` false (the layer threw): the
   * parameter leases go back without an update, nothing else changes.
   */
  async endLayer(l: MemoryOwner, backward: boolean, training: boolean, ok: boolean, out: Tensor | null): Promise<void> {
    this.calls.end(l, ok, out);
    if (l.composite) return;
    const own = this.sealedOwn(l);
    try {
      if (own.length > 0) {
        if (backward && ok) await this.params!.update(own);
        else this.params!.release(own);
      }
    } finally {
      const grown = this.pool.closeMark();
      let sets = this.workingSets.get(l);
      if (sets === undefined) this.workingSets.set(l, (sets = new Map()));
      const key = this.phaseKey(backward);
      sets.set(key, Math.max(sets.get(key) ?? 0, grown));
    }
    const saved = this.calls.savedIfAny(l);
    if (!ok || saved === null) return;
    if (backward) {
      for (const r of saved.records()) r.pinned = false;
      saved.clear();
    } else if (!training) {
      saved.clear();
    }
  }

  /** The parameters to unseal around `l` (none unless parameters are sealed and `l` reads some itself). */
  private sealedOwn(l: MemoryOwner): Parameter[] {
    return this.params !== null ? (l.ownParameters?.() ?? []) : [];
  }

  private phaseKey(backward: boolean): string {
    return `${backward ? 'backward' : 'forward'}:${this.batch}`;
  }

  /** Start of a model backward: in sealed mode the optimizer's step begins (its update runs per layer). */
  async beginBackward(): Promise<void> {
    this.params?.beginStep();
  }

  /** End of a model backward: deletes freed chunks and remembers this batch size's largest buffer. */
  async endBackward(): Promise<void> {
    this.params?.endStep();
    if (this.params !== null) this.collect?.();
    await this.store.flush();
    this.largestByBatch.set(this.batch, Math.max(this.largestByBatch.get(this.batch) ?? 0, this.pool.largestTaken));
    this.updateFixed();
    this.steps++;
  }

  f32(owner: MemoryOwner, key: string, n: number): Float32Array {
    return this.calls.f32(owner, key, n);
  }

  i32(owner: MemoryOwner, key: string, n: number): Int32Array {
    return this.calls.i32(owner, key, n);
  }

  save(owner: MemoryOwner, slot: string, t: Tensor): void {
    this.calls.saved(owner).save(slot, t);
  }

  saveInt(owner: MemoryOwner, slot: string, a: Int32Array): void {
    this.calls.saved(owner).saveInt(slot, a);
  }

  load(owner: MemoryOwner, slot: string): Tensor {
    return this.calls.saved(owner).tensor(slot);
  }

  loadInt(owner: MemoryOwner, slot: string): Int32Array {
    return this.calls.saved(owner).int(slot);
  }

  drop(t: Tensor, ...stillHeld: (Tensor | null)[]): void {
    this.calls.drop(t, stillHeld);
  }

  /**
   * Seals resident saved tensors, oldest first (backward needs them last), until `extra` more bytes fit
   * next to the fixed memory. Only tensors whose buffer nobody else holds free anything now; the others
   * are reconsidered after the chain lets go of them. Free pool buffers are dropped by the pool itself
   * when a new lease would not fit.
   */
  private async makeRoom(extra: number): Promise<void> {
    const limit = this.budget.budgetBytes - this.budget.fixed - extra;
    const used = (): number => this.pool.inUse + this.store.external;
    if (used() <= limit) return;
    let sealed = false;
    for (const r of this.store.spillable()) {
      if (this.pool.refCount(r.view!) !== 1) continue;
      sealed ||= r.chunks === 0;
      await this.store.offload(r);
      if (used() <= limit) break;
    }
    if (sealed) this.collect?.();
  }

  report(): ManagedMemoryReport {
    return {
      ...this.budget.report(),
      pool: { allocated: this.pool.allocated, inUse: this.pool.inUse, allocations: this.pool.allocations, leases: this.pool.leases },
      store: { ...this.store.stats, ...this.store.residency(), records: this.store.records },
      steps: this.steps,
      parameters: this.params === null ? null : { ...this.params.stats, chunks: this.params.chunks },
    };
  }
}
