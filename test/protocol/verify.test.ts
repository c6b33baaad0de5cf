/**
 * Verified products (docs/protocol.md, Verification) through the protocols: with --verify all a correct
 * run passes every check and stays bit-identical to the quantized reference; a worker that adds 1 to one
 * element of one result (roles/fault-injection.ts) stops the run in that op with a VerificationError
 * naming the layer, the pass and (goten) the worker, and the step is not applied. Covers every op kind
 * (the odd net's conv and linear layers, forward, input and weight gradient), both protocols, online and
 * offline, and the replicated topology.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { TensorPool } from '../../src/nn/memory/tensor-pool.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { VerificationError } from '../../src/protocol/product-verifier.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import type { ProtocolName } from '../../src/protocol/variant.js';
import { faultInjector } from '../../src/roles/fault-injection.js';
import { type Topology, startLocalCluster } from '../../src/roles/local-cluster.js';
import { MemoryBudget } from '../../src/tee/memory-budget.js';
import { RecordingExecutor, assertSameRecords, oddModel, trainSteps } from './helpers.js';

const backend = createJsBackend();
const SEED = 11;
const noiseKey = noiseKeyFromSeed(SEED);

/** The ops of one step in the order the workers compute them: `layer/pass`. */
async function opOrder(): Promise<string[]> {
  const ref = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
  await trainSteps(oddModel(SEED, ref), 1, 2);
  return ref.records.map((r) => r.key);
}

interface Setup {
  readonly protocol: ProtocolName;
  readonly workers: 2 | 3;
  readonly topology: Topology;
}

function name(s: Setup): string {
  return `${s.protocol} ${s.workers === 3 ? 'online' : 'offline'} ${s.topology}`;
}

/** Runs one step with worker `culprit` corrupting its op number `op`; returns the error. */
async function corruptedStep(s: Setup, culprit: number, op: number): Promise<{ err: VerificationError; unchanged: boolean }> {
  const faults: (((out: Int32Array) => void) | undefined)[] = [];
  const lines: string[] = [];
  faults[culprit] = faultInjector({ kind: 'corrupt', op }, culprit, (l) => lines.push(l));
  const cluster = await startLocalCluster({ backend, noiseKey, verify: 'all', workerFaults: faults, ...s });
  try {
    const models = cluster.executors.map((e) => oddModel(SEED, e));
    const before = models[0].parameters().map((p) => p.value.slice());
    const results = await Promise.allSettled(models.map((m) => trainSteps(m, 1, 2)));
    assert.ok(lines.some((l) => l.includes('FAULT INJECTED')), 'the fault was injected');
    const errs = results.map((r) => (r.status === 'rejected' ? r.reason : null));
    for (const e of errs) assert.ok(e instanceof VerificationError, `every enclave stops with a VerificationError, got ${String(e)}`);
    const unchanged = models[0].parameters().every((p, i) => Buffer.from(p.value.buffer, p.value.byteOffset, p.value.byteLength).equals(Buffer.from(before[i].buffer)));
    return { err: errs[0] as VerificationError, unchanged };
  } finally {
    await cluster.close();
  }
}

describe('verified products: a correct run passes and is unchanged', () => {
  const setups: Setup[] = [
    { protocol: 'lean', workers: 3, topology: 'single' },
    { protocol: 'goten', workers: 3, topology: 'single' },
    { protocol: 'lean', workers: 2, topology: 'single' },
    { protocol: 'goten', workers: 2, topology: 'replicated' },
  ];
  for (const s of setups) {
    it(`${name(s)}: every op checked, results bit-identical to the quantized reference`, async () => {
      const ref = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
      await trainSteps(oddModel(SEED, ref), 2, 3);
      const cluster = await startLocalCluster({ backend, noiseKey, verify: 'all', ...s });
      try {
        const recs = cluster.executors.map((e) => new RecordingExecutor(e));
        await Promise.all(recs.map((r) => trainSteps(oddModel(SEED, r), 2, 3)));
        for (const r of recs) assertSameRecords(ref, r, name(s));
        for (const e of cluster.executors) {
          const v = e.verifyStats();
          assert.ok(v, 'a verifier is attached');
          assert.equal(v.checked, e.stats().ops + e.stats().overflows, 'every attempt was checked');
          assert.equal(v.unverifiable, 0);
          assert.ok(v.ms > 0);
        }
      } finally {
        await cluster.close();
      }
    });
  }
});

describe('verified products: a corrupted result stops the run in that op', () => {
  it('lean online single, worker 0 corrupts each op of a step in turn (all six op kinds)', async () => {
    const order = await opOrder();
    assert.deepEqual(new Set(order.map((k) => k.split('/')[1])), new Set(['forward', 'grad-input', 'grad-weight']));
    for (let op = 1; op <= order.length; op++) {
      const { err, unchanged } = await corruptedStep({ protocol: 'lean', workers: 3, topology: 'single' }, 0, op);
      assert.equal(`${err.layer}/${err.pass}`, order[op - 1], `op ${op} is named`);
      assert.equal(err.culprit, "worker w0's result C0' failed verification", `op ${op}: worker 0 is named`);
      assert.ok(unchanged, 'the step was not applied');
    }
  });

  for (const [protocol, culprit] of (['goten', 'lean'] as const).flatMap((p) => [0, 1, 2].map((c) => [p, c] as const))) {
    it(`${protocol} online single: worker ${culprit} is named (a conv grad-weight and a linear forward)`, async () => {
      const order = await opOrder();
      for (const key of [order.find((k) => k.endsWith('grad-weight'))!, order.find((k) => k.endsWith('forward') && !k.startsWith(order[0].split('/')[0]))!]) {
        const op = order.indexOf(key) + 1;
        const { err, unchanged } = await corruptedStep({ protocol, workers: 3, topology: 'single' }, culprit, op);
        assert.equal(`${err.layer}/${err.pass}`, key);
        assert.equal(err.culprit, `worker w${culprit}'s result ${["C0'", "C1'", "Z'"][culprit]} failed verification`);
        assert.ok(unchanged);
      }
    });
  }

  const others: [Setup, number, RegExp][] = [
    [{ protocol: 'lean', workers: 2, topology: 'single' }, 1, /worker w1's result C1' failed/],
    [{ protocol: 'lean', workers: 2, topology: 'single' }, 0, /worker w0's result C0' failed/],
    [{ protocol: 'goten', workers: 2, topology: 'single' }, 1, /worker w1's result C1' failed/],
    [{ protocol: 'lean', workers: 3, topology: 'replicated' }, 2, /worker w2's result Z' failed/],
    [{ protocol: 'goten', workers: 3, topology: 'replicated' }, 0, /worker w0's result C0' failed/],
  ];
  for (const [s, culprit, want] of others) {
    it(`${name(s)}: worker ${culprit} corrupting an input gradient is detected by every enclave`, async () => {
      const order = await opOrder();
      const op = order.findIndex((k) => k.endsWith('grad-input')) + 1;
      const { err, unchanged } = await corruptedStep(s, culprit, op);
      assert.equal(`${err.layer}/${err.pass}`, order[op - 1]);
      assert.match(err.message, want);
      assert.ok(unchanged);
    });
  }
});

describe('verified products in managed memory: the checks lease their buffers from the budget', () => {
  for (const protocol of ['lean', 'goten'] as const) {
    it(`${protocol} online: results unchanged, every lease returned, and a corrupted result still caught`, async () => {
      const ref = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
      await trainSteps(oddModel(SEED, ref), 2, 3);
      const order = await opOrder();
      const faults: (((out: Int32Array) => void) | undefined)[] = [];
      // worker 0 corrupts the first op of the third step: two clean steps first
      faults[0] = faultInjector({ kind: 'corrupt', op: 2 * order.length + 1 }, 0, () => {});
      const cluster = await startLocalCluster({ backend, noiseKey, verify: 'all', protocol, topology: 'single', workerFaults: faults });
      try {
        const exec = cluster.executors[0];
        const pool = new TensorPool(new MemoryBudget(1 << 30));
        exec.attachMemory(pool);
        const rec = new RecordingExecutor(exec);
        const model = oddModel(SEED, rec);
        await trainSteps(model, 2, 3);
        assertSameRecords(ref, rec, `${protocol} managed`);
        assert.equal(exec.verifyStats()!.checked, exec.stats().ops + exec.stats().overflows, 'every attempt was checked');
        assert.equal(pool.inUse, 0, 'the checks gave back every lease');
        await assert.rejects(trainSteps(model, 1, 3), VerificationError);
      } finally {
        await cluster.close();
      }
    });
  }
});
