/**
 * Ops kept in the enclave (SecureExecutorOptions.localBelow, src/protocol/local-attempt.ts): with the
 * odd net's two small linear layers below the size limit and its convolutions above it, secure training
 * stays bit-identical to the quantized reference (every op's result, the losses, the parameters), in
 * both protocols and topologies, online and offline; the workers compute exactly the convolutions' ops
 * and no frame of a local layer crosses any enclave link.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { opSize } from '../../src/protocol/local-attempt.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import type { ProtocolName } from '../../src/protocol/variant.js';
import { type Topology, startLocalCluster } from '../../src/roles/local-cluster.js';
import { RecordingExecutor, assertSameRecords, oddModel, trainSteps } from './helpers.js';

const backend = createJsBackend();
const SEED = 5;
const STEPS = 3;
const BATCH = 3;
// the odd net at batch 3: convolutions of size 3194 and 1972, linear layers of 252 and 84 (√(a·b·c))
const LOCAL_BELOW = 1000;

interface Setup {
  readonly protocol: ProtocolName;
  readonly topology: Topology;
  readonly workers: 2 | 3;
}

async function check(s: Setup): Promise<void> {
  const noiseKey = noiseKeyFromSeed(SEED);
  const ref = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
  const refModel = oddModel(SEED, ref);
  const refLosses = await trainSteps(refModel, STEPS, BATCH);
  const outsourced = ref.records.filter((r) => opSize(r.op) >= LOCAL_BELOW).length;
  assert.ok(outsourced > 0 && outsourced < ref.records.length, 'some ops are local, some outsourced');
  assert.equal(ref.inner.stats().overflows, 0, 'no retries: every op is one attempt');
  for (const index of new Set(ref.records.map((r) => r.index))) {
    const sizes = new Set(ref.records.filter((r) => r.index === index).map((r) => opSize(r.op)));
    assert.equal(sizes.size, 1, `all passes of layer ${index} have one size (conv and linear)`);
  }

  const cluster = await startLocalCluster({ backend, noiseKey, localBelow: LOCAL_BELOW, ...s });
  try {
    const recs = cluster.executors.map((e) => new RecordingExecutor(e));
    const models = recs.map((r) => oddModel(SEED, r));
    const losses = await Promise.all(models.map((m) => trainSteps(m, STEPS, BATCH)));
    for (let i = 0; i < recs.length; i++) {
      assertSameRecords(ref, recs[i], `replica ${i} vs the quantized reference`);
      assert.deepEqual(losses[i], refLosses, 'losses are identical');
      const pRef = refModel.parameters();
      models[i].parameters().forEach((p, j) => assert.deepEqual(p.value, pRef[j].value, `parameter ${p.name} after training`));
    }
    assert.equal(cluster.executors[0].stats().ops, ref.inner.stats().ops, 'local ops are counted as ops');
    for (const w of cluster.workers) assert.equal(w.stats.ops, outsourced, 'each worker computed exactly the outsourced ops');
    // frames are labelled L<layer index>.<kind>.<pass> (messages.ts opLabel)
    const localLayers = new Set(ref.records.filter((r) => opSize(r.op) < LOCAL_BELOW).map((r) => r.index));
    const labelled = new Set<number>();
    for (const c of cluster.connections.flat()) {
      for (const label of Object.keys(c.counters.snapshot().byLabel)) {
        const index = /^L(\d+)\./.exec(label)?.[1];
        if (index !== undefined) labelled.add(Number(index));
      }
    }
    assert.ok(labelled.size > 0, 'the outsourced ops are labelled');
    for (const l of localLayers) assert.ok(!labelled.has(l), `no frame of local layer ${l} on any link`);
  } finally {
    await cluster.close();
  }
}

describe('ops kept in the enclave below the size limit', () => {
  const setups: Setup[] = [
    { protocol: 'lean', topology: 'single', workers: 3 },
    { protocol: 'lean', topology: 'replicated', workers: 3 },
    { protocol: 'lean', topology: 'single', workers: 2 },
    { protocol: 'goten', topology: 'single', workers: 3 },
  ];
  for (const s of setups) {
    it(`${s.protocol} ${s.topology} ${s.workers === 3 ? 'online' : 'offline'}: bit-identical, the workers see only the large ops`, () => check(s));
  }

  it('the size is the same for all three passes of a layer', () => {
    for (const r of [{ batch: 3, inF: 12, outF: 7 }]) {
      const sizes = (['forward', 'grad-input', 'grad-weight'] as const).map((pass) => opSize({ layer: 'linear', pass, geom: r }));
      assert.deepEqual(sizes, [252, 252, 252]);
    }
  });
});
