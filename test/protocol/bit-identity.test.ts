/**
 * The protocol's main correctness test (docs/protocol.md, the main correctness test): secure training is
 * bit-identical to the quantized reference with the same seed — every linear
 * op's result (layer outputs, input gradients, weight gradients) over several
 * training steps, for both protocols (lean and the paper's), in both topologies,
 * with odd shapes and batch 1.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import { PROTOCOLS, type ProtocolName } from '../../src/protocol/variant.js';
import { type Topology, startLocalCluster } from '../../src/roles/local-cluster.js';
import { RecordingExecutor, assertSameRecords, oddModel, trainSteps } from './helpers.js';

const backend = createJsBackend();
const SEED = 7;
const STEPS = 3;

function assertSameAsReference(ref: RecordingExecutor, got: RecordingExecutor, what: string): void {
  // 4 linear layers × 3 ops, minus the first layer's unused input gradient
  assert.equal(ref.records.length, STEPS * 11, 'every op of every step was recorded');
  assertSameRecords(ref, got, `${what} vs the quantized reference`);
}

async function secureVsQuantized(protocol: ProtocolName, topology: Topology, batch: number): Promise<void> {
  const noiseKey = noiseKeyFromSeed(SEED);
  const ref = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
  const refModel = oddModel(SEED, ref);
  const refLosses = await trainSteps(refModel, STEPS, batch);

  const cluster = await startLocalCluster({ backend, topology, noiseKey, protocol });
  try {
    const recs = cluster.executors.map((e) => new RecordingExecutor(e));
    const models = recs.map((r) => oddModel(SEED, r));
    const losses = await Promise.all(models.map((m) => trainSteps(m, STEPS, batch)));
    for (let i = 0; i < recs.length; i++) {
      assertSameAsReference(ref, recs[i], `${protocol} ${topology} replica ${i} batch ${batch}`);
      assert.deepEqual(losses[i], refLosses, 'losses are identical');
      const pRef = refModel.parameters();
      models[i].parameters().forEach((p, j) => assert.deepEqual(p.value, pRef[j].value, `parameter ${p.name} after training`));
    }
    assert.equal(cluster.executors[0].stats().ops, ref.inner.stats().ops);
    assert.equal(cluster.executors[0].stats().overflows, ref.inner.stats().overflows);
  } finally {
    await cluster.close();
  }
}

describe('secure protocol is bit-identical to the quantized reference', () => {
  for (const protocol of PROTOCOLS) {
    for (const topology of ['single', 'replicated'] as const) {
      for (const batch of [1, 3]) {
        it(`${protocol} protocol, ${topology} topology, batch ${batch}, ${STEPS} training steps`, () => secureVsQuantized(protocol, topology, batch));
      }
    }
  }
});
