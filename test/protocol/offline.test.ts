/**
 * Offline two-worker mode (protocol/offline-masks.ts): the enclave precomputes
 * Z̃ = f(U, V) + CM0 + CM1, seals it to untrusted storage and reconstructs
 * C0' + C1' + Z̃ with workers 0 and 1 only. Bit-identical to online mode (and to
 * the quantized reference) for the same seeds, in both topologies; attempts that
 * were not precomputed (the first step, another batch size) run on demand and
 * are counted; a tampered, swapped or missing chunk is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import type { BilinearOp } from '../../src/backend/bilinear.js';
import { createJsKernels } from '../../src/protocol/enclave-kernels.js';
import { deriveStreamKeys, generateMasterSecret } from '../../src/protocol/key-schedule.js';
import { OfflineMaskSource } from '../../src/protocol/offline-masks.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { AttemptCounter } from '../../src/protocol/op-streams.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import { PROTOCOLS } from '../../src/protocol/variant.js';
import { startLocalCluster } from '../../src/roles/local-cluster.js';
import { FileBacking, MemoryBacking } from '../../src/tee/chunk-store.js';
import { RecordingExecutor, assertSameRecords, oddModel, trainSteps } from './helpers.js';

const backend = createJsBackend();
const SEED = 11;

/** 3 steps at batch 3, then one at batch 2 (a "last partial batch"). */
async function run(rec: RecordingExecutor): Promise<number[]> {
  const model = oddModel(SEED, rec);
  return [...(await trainSteps(model, 3, 3)), ...(await trainSteps(model, 1, 2))];
}

describe('offline two-worker mode', () => {
  for (const [protocol, topology] of PROTOCOLS.flatMap((p) => [[p, 'single'], [p, 'replicated']] as const)) {
    it(`${protocol}, ${topology}: bit-identical to online mode and to the quantized reference; on-demand attempts counted`, async () => {
      const master = generateMasterSecret();
      const noiseKey = noiseKeyFromSeed(SEED);
      const ref = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
      const refLosses = await run(ref);
      const online = await startLocalCluster({ protocol, backend, topology, noiseKey, master: master.slice() });
      const offline = await startLocalCluster({ protocol, backend, topology, noiseKey, master: master.slice(), workers: 2 });
      try {
        assert.equal(offline.workers.length, 2, 'no worker 2 in offline mode');
        const on = online.executors.map((e) => new RecordingExecutor(e));
        const off = offline.executors.map((e) => new RecordingExecutor(e));
        const onLosses = await Promise.all(on.map(run));
        const offLosses = await Promise.all(off.map(run));
        for (let i = 0; i < off.length; i++) {
          assertSameRecords(on[i], off[i], `${topology} replica ${i}: offline vs online`);
          assertSameRecords(ref, off[i], `${topology} replica ${i}: offline vs quantized`);
          assert.deepEqual(offLosses[i], onLosses[i]);
          assert.deepEqual(offLosses[i], refLosses);
          const st = offline.executors[i].maskStats();
          assert.equal(st.mode, 'offline');
          // step 0 (11 ops) had nothing precomputed; steps 1–2 were served from the sealed store;
          // the batch-2 step has other geometry, so its chunks (precomputed for batch 3) are not used
          assert.equal(st.served, 22);
          assert.equal(st.onDemand, 11 + 11);
          assert.ok(st.precomputed >= 22 && st.offlineMs > 0);
        }
        assert.equal(online.executors[0].maskStats().mode, 'online');
      } finally {
        await online.close();
        await offline.close();
      }
    });
  }

  it('the TypeScript enclave kernels (the fallback without the addon) give the same results', async () => {
    const noiseKey = noiseKeyFromSeed(SEED);
    const ref = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
    await run(ref);
    for (const [protocol, workers] of PROTOCOLS.flatMap((p) => [[p, 2], [p, 3]] as const)) {
      const cluster = await startLocalCluster({ protocol, backend, topology: 'single', noiseKey, workers, kernels: 'js' });
      try {
        assert.equal(cluster.executors[0].kernels, 'js');
        const rec = new RecordingExecutor(cluster.executors[0]);
        await run(rec);
        assertSameRecords(ref, rec, `${protocol}, ${workers} workers, js kernels`);
      } finally {
        await cluster.close();
      }
    }
  });

  it('refuses tampered, swapped and missing chunks; file-backed storage holds only sealed blobs', async () => {
    const keys = deriveStreamKeys(generateMasterSecret());
    const op: BilinearOp = { layer: 'linear', pass: 'forward', geom: { batch: 3, inF: 5, outF: 4 } };
    const plan = [0, 1, 2].map((attempt) => ({ op, layer: 2, attempt }));
    const backing = new MemoryBacking();
    const src = new OfflineMaskSource({ protocol: 'goten', keys, backend, kernels: createJsKernels(), backing, budgetBytes: 0 });
    const report = await src.precompute(plan);
    assert.equal(report.attempts, 3);
    assert.equal(report.bytes, 3 * 12 * 4);
    const good = await src.take(plan[0], 0, 12);
    assert.deepEqual(good.data, src.compute(plan[0], new Int32Array(12)));
    const [k1, k2] = [...backing.blobs.keys()];
    assert.equal(backing.blobs.size, 2, 'a used chunk is deleted');
    backing.blobs.set(k2, backing.blobs.get(k1)!); // the host swaps chunk 1 in for chunk 2
    await assert.rejects(src.take(plan[2], 2, 12), /swapped/);
    const t = backing.blobs.get(k1)!.slice();
    t[t.length - 20] ^= 1; // the host alters one ciphertext byte
    backing.blobs.set(k1, t);
    await assert.rejects(src.take(plan[1], 1, 12), /authentication failed/);
    const late = { op, layer: 2, attempt: 3 };
    await src.precompute([late]);
    backing.blobs.clear(); // the host drops everything
    await assert.rejects(src.take(late, 3, 12), /missing/);

    const dir = mkdtempSync(join(tmpdir(), 'goten-offline-'));
    try {
      const file = new OfflineMaskSource({ protocol: 'goten', keys, backend, kernels: createJsKernels(), backing: new FileBacking(dir), budgetBytes: 0 });
      // the next two steps of a site taking one attempt per step, counters at their start (attempts 0 and 1)
      await file.precomputeSteps(2, new AttemptCounter(), [{ at: { op, layer: 2, attempt: 0 }, steps: { attempt: 1, a: 0, b: 0 } }]);
      assert.equal(readdirSync(dir).length, 2);
      const z = await file.take({ op, layer: 2, attempt: 1 }, 0, 12);
      assert.deepEqual(z.data, file.compute({ op, layer: 2, attempt: 1 }, new Int32Array(12)));
      await file.close();
      assert.equal(readdirSync(dir).length, 0, 'close deletes what is left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
