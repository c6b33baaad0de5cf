/**
 * Managed memory with the secure protocol (docs/memory.md): the executor's operands and shares, the
 * offline mask source's buffers and the enclave's received results are leases on the budgeted pool.
 * Training is bit-identical to the unmanaged run (online and offline); every lease taken in a step is
 * returned by its end; a second step allocates nothing new; a failed attempt never puts buffers a send may
 * still read back into reuse and leaves the accounting consistent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import type { BilinearOp } from '../../src/backend/bilinear.js';
import { ManagedMemory, type ManagedMemoryOptions } from '../../src/nn/memory/index.js';
import { TensorPool } from '../../src/nn/memory/tensor-pool.js';
import { SGD } from '../../src/nn/optim.js';
import { trainStep } from '../../src/nn/train-step.js';
import { createJsKernels } from '../../src/protocol/enclave-kernels.js';
import { deriveStreamKeys, generateMasterSecret } from '../../src/protocol/key-schedule.js';
import { OfflineMaskSource } from '../../src/protocol/offline-masks.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import type { SecureExecutor } from '../../src/protocol/secure-executor.js';
import { type LocalCluster, startLocalCluster } from '../../src/roles/local-cluster.js';
import { PROTOCOLS, type ProtocolName } from '../../src/protocol/variant.js';
import { MemoryBacking } from '../../src/tee/chunk-store.js';
import { MemoryBudget } from '../../src/tee/memory-budget.js';
import { oddBatch, oddModel } from './helpers.js';

const backend = createJsBackend();
const SEED = 5;
const STEPS = 4;

interface StepLog {
  inUseBefore: number;
  inUseAfter: number;
  leasesAfter: number;
  allocationsAfter: number;
  /** Received tensor frames (results) leased from the pool during the step, and the attempts it ran. */
  received: number;
  attempts: number;
}

interface Run {
  losses: number[];
  params: Buffer[];
  steps: StepLog[];
}

/**
 * STEPS SGD steps of the odd net on `exec`. `mem`: the whole model under managed memory; `pool`: only the
 * executor on a budgeted pool (layers keep their own buffers), so every lease of a step is the executor's.
 */
async function train(exec: SecureExecutor, mem: ManagedMemory | null, pool: TensorPool | null = mem?.pool ?? null): Promise<Run> {
  const model = oddModel(SEED, exec);
  let received = 0;
  for (const conn of exec.connections) {
    // count the received tensor frames that land in the pool the executor installs
    const set = conn.setTensorPool!.bind(conn);
    conn.setTensorPool = (p) => set(p && { acquire: (n: number) => (received++, p.acquire(n)) });
  }
  if (mem) model.attachMemory(mem);
  else if (pool) exec.attachMemory(pool);
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const losses: number[] = [];
  const steps: StepLog[] = [];
  for (let s = 0; s < STEPS; s++) {
    const inUseBefore = pool?.inUse ?? 0;
    const { ops, overflows } = exec.stats();
    received = 0;
    const { x, y } = oddBatch(3, 100 + s);
    losses.push((await trainStep(model, opt, x, y)).loss);
    const st = exec.stats();
    steps.push({
      inUseBefore,
      inUseAfter: pool?.inUse ?? 0,
      leasesAfter: pool?.leases ?? 0,
      allocationsAfter: pool?.allocations ?? 0,
      received,
      attempts: st.ops - ops + st.overflows - overflows,
    });
  }
  const params = [...model.parameters(), ...model.buffers()].map((p) => Buffer.from(p.value.slice().buffer));
  return { losses, params, steps };
}

type Managed = { kind: 'none' } | { kind: 'executor'; budgetBytes: number } | { kind: 'model'; opts: ManagedMemoryOptions };

/** Results the enclave receives per attempt: goten C0', C1' (and Z' online); lean S only. */
const RESULTS: Record<ProtocolName, Record<2 | 3, number>> = { goten: { 2: 2, 3: 3 }, lean: { 2: 1, 3: 1 } };

async function runMode(protocol: ProtocolName, workers: 2 | 3, master: Uint8Array, how: Managed) {
  const cluster = await startLocalCluster({ protocol, backend, topology: 'single', noiseKey: noiseKeyFromSeed(SEED), master: master.slice(), workers });
  try {
    const mem = how.kind === 'model' ? new ManagedMemory(how.opts) : null;
    const pool = how.kind === 'executor' ? new TensorPool(new MemoryBudget(how.budgetBytes)) : (mem?.pool ?? null);
    const exec = cluster.executors[0];
    const run = await train(exec, mem, pool);
    return { run, mem, pool, executorBytes: exec.memoryBytes() };
  } finally {
    await cluster.close();
  }
}

/**
 * The model-level runs keep parameters in the layers' arrays: this file is about the executor's buffers.
 * (`parameters: 'resident'` is the parameter-offload change's option; an older manager ignores it.)
 */
function residentParams(o: ManagedMemoryOptions): ManagedMemoryOptions {
  return Object.assign(o, { parameters: 'resident' });
}

function assertBitIdentical(ref: Run, got: Run): void {
  assert.deepEqual(got.losses, ref.losses);
  assert.equal(got.params.length, ref.params.length);
  ref.params.forEach((p, i) => assert.ok(p.equals(got.params[i]), `tensor ${i} differs`));
}

describe('secure executor on a budgeted pool', () => {
  for (const [protocol, workers] of PROTOCOLS.flatMap((p) => [[p, 3], [p, 2]] as const)) {
    const mode = `${protocol} ${workers === 3 ? 'online' : 'offline'}`;
    it(`${mode}: bit-identical; every lease returned after each step; the second step allocates nothing`, async () => {
      const master = generateMasterSecret();
      const ref = await runMode(protocol, workers, master, { kind: 'none' });
      assert.ok(ref.executorBytes > 0, 'unmanaged: private per-op buffers');
      const got = await runMode(protocol, workers, master, { kind: 'executor', budgetBytes: 1 << 30 });
      assertBitIdentical(ref.run, got.run);
      const results = RESULTS[protocol][workers];
      for (const [s, st] of got.run.steps.entries()) {
        assert.equal(st.inUseAfter, 0, `step ${s}: every lease returned`);
        assert.equal(st.leasesAfter, 0);
        assert.equal(st.received, st.attempts * results, `step ${s}: every result (${results} per attempt) landed in the pool`);
      }
      const alloc = got.run.steps.map((st) => st.allocationsAfter);
      assert.ok(alloc[0] > 0);
      assert.deepEqual(alloc, alloc.map(() => alloc[0]), `buffers allocated by the end of each step: ${alloc.join(', ')}`);
      assert.equal(got.executorBytes, 0, 'managed: nothing outside the pool');
    });
  }

  it('online, 1-byte budget (free buffers of other sizes evicted on every fresh allocation): bit-identical', async () => {
    const master = generateMasterSecret();
    const ref = await runMode('lean', 3, master, { kind: 'none' });
    const got = await runMode('lean', 3, master, { kind: 'executor', budgetBytes: 1 });
    assertBitIdentical(ref.run, got.run);
    assert.equal(got.pool!.inUse, 0);
    assert.equal(got.pool!.leases, 0);
  });
});

describe('managed memory (Model.attachMemory) with the secure protocol', () => {
  for (const [protocol, workers] of PROTOCOLS.flatMap((p) => [[p, 3], [p, 2]] as const)) {
    const mode = `${protocol} ${workers === 3 ? 'online' : 'offline'}`;
    it(`${mode}: bit-identical; in-use bytes back to their pre-step value; executor memory all in the pool`, async () => {
      const master = generateMasterSecret();
      const ref = await runMode(protocol, workers, master, { kind: 'none' });
      const got = await runMode(protocol, workers, master, { kind: 'model', opts: residentParams({ budgetBytes: 1 << 30 }) });
      assertBitIdentical(ref.run, got.run);
      for (const [s, st] of got.run.steps.entries()) {
        assert.equal(st.leasesAfter, 1, `step ${s}: only the logits stay leased`);
        if (s > 0) assert.equal(st.inUseAfter, st.inUseBefore, `step ${s}: in-use bytes back to their pre-step value`);
        assert.equal(st.received, st.attempts * RESULTS[protocol][workers], `step ${s}: every result landed in the pool`);
      }
      const alloc = got.run.steps.map((st) => st.allocationsAfter);
      assert.equal(alloc[STEPS - 1], alloc[1], `buffers allocated by the end of each step: ${alloc.join(', ')}`);
      assert.equal(got.executorBytes, 0);
      const r = got.mem!.report();
      assert.equal(r.categories.executor.current, 0);
      assert.equal(r.categories.pool.current, got.mem!.pool.allocated, 'the budget charges exactly what the pool holds');
    });
  }

  it('online, every saved tensor sealed out (1-byte budget): bit-identical', async () => {
    const master = generateMasterSecret();
    const ref = await runMode('lean', 3, master, { kind: 'none' });
    const got = await runMode('lean', 3, master, { kind: 'model', opts: residentParams({ budgetBytes: 1, chunkBytes: 64 }) });
    assertBitIdentical(ref.run, got.run);
    for (const st of got.run.steps) assert.equal(st.leasesAfter, 1);
  });
});

describe('managed memory: a failed attempt', () => {
  const op: BilinearOp = { layer: 'linear', pass: 'forward', geom: { batch: 4, inF: 300, outF: 40 } };
  const tag = { layer: 'fc', index: 0 };
  const a = Float32Array.from({ length: 300 * 40 }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: 4 * 300 }, (_, i) => Math.cos(i));

  /**
   * A cluster whose executor runs on a budgeted pool, after one good op; records the operand leases from then
   * on (goten: E, F, A1, B1 as Int32; lean: the packed E, F as bytes). `take(n)` leases what an operand would.
   */
  async function setUp(protocol: ProtocolName) {
    const cluster = await startLocalCluster({ protocol, backend, topology: 'single', noiseKey: noiseKeyFromSeed(SEED) });
    const exec = cluster.executors[0];
    const budget = new MemoryBudget(1 << 30);
    const pool = new TensorPool(budget);
    exec.attachMemory(pool);
    await exec.run(op, tag, a, b, new Float32Array(160));
    assert.equal(pool.inUse, 0, 'a good attempt returns everything');
    const operands: ArrayBuffer[] = [];
    const method = protocol === 'lean' ? 'bytes' : 'i32';
    const orig = pool[method].bind(pool);
    const received = new Set<ArrayBuffer>();
    for (const conn of exec.connections) {
      // lean: received frames are byte leases too; they are not operands
      const set = conn.setTensorPool!.bind(conn);
      conn.setTensorPool = (p) => set(p && { acquire: (n: number) => { const l = p.acquire(n); received.add(l.buffer); return l; } });
    }
    exec.attachMemory(pool);
    pool[method] = ((n: number) => {
      const v = orig(n);
      operands.push(v.buffer as ArrayBuffer);
      return v;
    }) as never;
    const stopRecording = () => {
      pool[method] = orig as never;
      for (let i = operands.length - 1; i >= 0; i--) if (received.has(operands[i])) operands.splice(i, 1);
    };
    const take = (n: number) => (protocol === 'lean' ? pool.bytes(3 * n) : pool.i32(n));
    return { cluster, exec, budget, pool, operands, stopRecording, take };
  }

  function breakWorker1(cluster: LocalCluster, how: 'malformed result' | 'killed connection'): void {
    if (how === 'malformed result') {
      const w1 = cluster.connections[0][1];
      const expect = w1.expect.bind(w1);
      w1.expect = async (type, opts) => {
        const m = await expect(type, opts);
        if (m.dtype === 'int24') return { ...m, data: m.data.subarray(3) };
        return m.dtype === 'int32' ? { ...m, data: m.data.subarray(1) } : m;
      };
    } else {
      cluster.workers[1].onReceive = () => {
        throw new Error('worker 1 dies');
      };
    }
  }

  for (const [protocol, how] of PROTOCOLS.flatMap((p) => [[p, 'malformed result'], [p, 'killed connection']] as const)) {
    it(`${protocol}: ${how} from worker 1 while a send to worker 0 is still out: its operand buffers are never reused`, async () => {
      const { cluster, exec, budget, pool, operands, stopRecording, take } = await setUp(protocol);
      try {
        // worker 0's sends are not known to be complete until the gate opens (a full socket buffer, say)
        const w0 = cluster.connections[0][0];
        const send = w0.send.bind(w0);
        let open!: () => void;
        const gate = new Promise<void>((r) => (open = r));
        w0.send = (m) => send(m).then(() => gate);
        breakWorker1(cluster, how);
        await assert.rejects(exec.run(op, tag, a, b, new Float32Array(160)), /worker 1/);
        stopRecording();
        assert.equal(operands.length, protocol === 'lean' ? 2 : 4, protocol === 'lean' ? 'packed E, F were leased' : 'E, F, A1, B1 were leased');
        const check = (when: string) => {
          assert.equal(pool.inUse, 0, `${when}: received results released, operand leases ended`);
          assert.equal(pool.leases, 0);
          assert.equal(budget.current('pool'), pool.allocated, `${when}: the budget charges exactly what the pool holds`);
        };
        check('after the failure');
        open(); // the sends complete late: that must not return the forgotten buffers
        await new Promise((r) => setImmediate(r));
        check('after the late sends');
        const reused = Array.from({ length: 16 }, () => take(300 * 40)).concat(Array.from({ length: 16 }, () => take(4 * 300)));
        for (const v of reused) assert.ok(!operands.includes(v.buffer as ArrayBuffer), 'a failed attempt’s operand buffer came back');
      } finally {
        await cluster.close();
      }
    });
  }

  for (const protocol of PROTOCOLS) it(`${protocol}: a failure after every send completed: the operands were back in the pool already, nothing is forgotten`, async () => {
    const { cluster, exec, budget, pool, operands, stopRecording, take } = await setUp(protocol);
    try {
      const allocated = pool.allocated;
      breakWorker1(cluster, 'malformed result');
      await assert.rejects(exec.run(op, tag, a, b, new Float32Array(160)), /worker 1/);
      stopRecording();
      assert.equal(pool.inUse, 0);
      assert.equal(pool.allocated, allocated, 'the attempt reused the first op’s buffers and kept them');
      assert.equal(budget.current('pool'), pool.allocated);
      assert.ok(operands.includes(take(300 * 40).buffer as ArrayBuffer), 'its operand buffers are reusable');
    } finally {
      await cluster.close();
    }
  });

  it('offline: a tampered chunk gives the part buffer back', async () => {
    const keys = deriveStreamKeys(generateMasterSecret());
    const backing = new MemoryBacking();
    const src = new OfflineMaskSource({ protocol: 'goten', keys, backend, kernels: createJsKernels(), backing, budgetBytes: 0 });
    const pool = new TensorPool(new MemoryBudget(1 << 30));
    src.attachMemory(pool);
    const at = { op, layer: 0, attempt: 0 };
    await src.precompute([at]);
    assert.equal(pool.inUse, 0, 'the offline phase returns its buffers');
    const [k] = [...backing.blobs.keys()];
    const t = backing.blobs.get(k)!.slice();
    t[t.length - 20] ^= 1;
    backing.blobs.set(k, t);
    await assert.rejects(src.take(at, 0, 160), /authentication failed/);
    assert.equal(pool.inUse, 0);
    const part = await src.take({ op, layer: 0, attempt: 1 }, 1, 160); // on demand
    assert.ok(pool.owns(part.data));
    part.release();
    part.release();
    assert.equal(pool.inUse, 0);
    assert.equal(src.memoryBytes(), 0);
  });
});
