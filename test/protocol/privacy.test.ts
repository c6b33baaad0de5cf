/**
 * Privacy of the workers' view (docs/protocol.md), for both protocols: every tensor a
 * worker receives during training is uniform on Z_P, its statistics do not depend on
 * the input, no plaintext (raw or quantized) input reaches a worker, and worker 2
 * receives no tensor at all. Lean: worker 0 gets E and F from the enclave, worker 1's
 * view includes them relayed by worker 0, the parts C0' and Z' it aggregates, and
 * the shares it derives itself (A1 = E + D(a), B1 = F + D(b)); every received tensor
 * arrives packed, 3 bytes per element, and the wire bytes carry exactly its values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { HALF, P } from '../../src/field/prime.js';
import { addModP } from '../../src/field/share.js';
import { unpackCentred24 } from '../../src/field/pack.js';
import { createJsKernels } from '../../src/protocol/enclave-kernels.js';
import type { LeanAttempt } from '../../src/protocol/lean-op.js';
import { operandStream } from '../../src/protocol/lean-op.js';
import type { LeanWorker1Keys } from '../../src/protocol/lean-compute.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { PROTOCOLS, type ProtocolName } from '../../src/protocol/variant.js';
import { startLocalCluster } from '../../src/roles/local-cluster.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { oddModel, ODD_INPUT } from './helpers.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';

const BINS = 64;
/** χ² critical value for 63 degrees of freedom at p = 1e-4 (≈ 116.1); a uniform stream exceeds it 1 time in 10 000. */
const CHI2_CRIT = 116.1;

interface View {
  histogram: Float64Array;
  count: number;
  sum: number;
  sumSq: number;
  tensors: { what: string; data: Int32Array }[];
  /** Lean: received tensors whose wire bytes did not unpack to exactly the values used. */
  wireMismatches: number;
  wireBytes: number;
}

function binOf(v: number): number {
  return Math.min(BINS - 1, Math.floor(((v + HALF) * BINS) / P));
}

/** Exact bin probabilities of a uniform centred element (P is not a multiple of BINS). */
function binProbabilities(): Float64Array {
  const p = new Float64Array(BINS);
  for (let b = 0; b < BINS; b++) {
    const lo = Math.ceil((b * P) / BINS);
    const hi = b === BINS - 1 ? P : Math.ceil(((b + 1) * P) / BINS);
    p[b] = (hi - lo) / P;
  }
  return p;
}

function chiSquare(h: Float64Array, n: number): number {
  const p = binProbabilities();
  let x = 0;
  for (let b = 0; b < BINS; b++) x += (h[b] - n * p[b]) ** 2 / (n * p[b]);
  return x;
}

function observe(v: View, what: string, data: Int32Array): void {
  for (let j = 0; j < data.length; j++) {
    const d = data[j];
    v.histogram[binOf(d)]++;
    v.sum += d;
    v.sumSq += d * d;
  }
  v.count += data.length;
  v.tensors.push({ what, data: data.slice() });
}

const STEPS = 3;

/** Records every payload each worker receives (and, lean, the shares worker 1 derives) during training steps on `x`. */
async function recordViews(protocol: ProtocolName, x: Tensor): Promise<View[]> {
  const backend = createJsBackend();
  const cluster = await startLocalCluster({ protocol, backend, topology: 'single', noiseKey: noiseKeyFromSeed(3) });
  const views: View[] = cluster.workers.map(() => ({ histogram: new Float64Array(BINS), count: 0, sum: 0, sumSq: 0, tensors: [], wireMismatches: 0, wireBytes: 0 }));
  const kernels = createJsKernels();
  cluster.workers.forEach((w, i) => {
    w.onReceive = (what, data, at, wire) => {
      const v = views[i];
      observe(v, what, data);
      if (protocol !== 'lean') return;
      const back = new Int32Array(data.length);
      if (!wire || wire.length !== 3 * data.length || !unpackCentred24(wire, back) || !Buffer.from(back.buffer).equals(Buffer.from(data.slice().buffer))) v.wireMismatches++;
      v.wireBytes += wire?.length ?? 0;
      if (i === 1 && (what === 'E' || what === 'F')) {
        // worker 1's derived share of that operand: A1 = E + D(a) or B1 = F + D(b)
        const ref = (at as LeanAttempt).operands[what === 'E' ? 0 : 1];
        const d = kernels.fillCentred(operandStream((w.keys as LeanWorker1Keys).D, at.layer, ref), new Int32Array(data.length));
        observe(v, what === 'E' ? 'A1' : 'B1', addModP(data, d, d));
      }
    };
  });
  try {
    const model = oddModel(11, cluster.executors[0]);
    const y = Int32Array.from({ length: x.shape[0] }, (_, i) => i % 4);
    for (let s = 0; s < STEPS; s++) {
      const logits = await model.forward(x, true);
      model.zeroGrad();
      await model.backward(softmaxCrossEntropy(logits, y).grad);
    }
  } finally {
    await cluster.close();
  }
  return views;
}

function input(batch: number, fill: (i: number) => number): Tensor {
  const x = new Tensor([batch, ...ODD_INPUT]);
  for (let i = 0; i < x.size; i++) x.data[i] = fill(i);
  return x;
}

for (const protocol of PROTOCOLS) describe(`${protocol}: workers see only uniformly random field elements`, () => {
  const B = 8;
  const zeros = input(B, () => 0);
  // structured, large, very non-uniform: a ramp with a repeating pattern
  const ramp = input(B, (i) => ((i % 17) - 8) * 3.5);
  let vZero: View[];
  let vRamp: View[];

  it('records the views of both runs', async () => {
    vZero = await recordViews(protocol, zeros);
    vRamp = await recordViews(protocol, ramp);
    assert.ok(vZero[0].count > 8_000 && vZero[1].count > 8_000, `views of ${vZero[0].count} and ${vZero[1].count} elements`);
  });

  if (protocol === 'lean') {
    it('lean: worker 0 sees E and F; worker 1 the relayed E, F, its derived shares and the parts C0\', Z\'', () => {
      const kinds = (v: View) => new Set(v.tensors.map((t) => t.what));
      assert.deepEqual([...kinds(vRamp[0])].sort(), ['E', 'F']);
      assert.deepEqual([...kinds(vRamp[1])].sort(), ['A1', 'B1', "C0'", 'E', 'F', "Z'"]);
    });

    it('lean: every tensor arrives packed, 3 bytes per element, and the wire carries exactly its values', () => {
      for (const v of [...vZero, ...vRamp]) {
        assert.equal(v.wireMismatches, 0);
        const received = v.tensors.filter((t) => t.what !== 'A1' && t.what !== 'B1').reduce((n, t) => n + t.data.length, 0);
        assert.equal(v.wireBytes, 3 * received);
      }
    });
  }

  it('worker 2 receives no tensor at all (only seeds and op headers)', () => {
    assert.equal(vZero[2].count, 0);
    assert.equal(vRamp[2].count, 0);
  });

  for (const w of [0, 1]) {
    it(`worker ${w}: payloads pass a χ² uniformity test over Z_P for both inputs`, () => {
      for (const v of [vZero[w], vRamp[w]]) {
        const x2 = chiSquare(v.histogram, v.count);
        assert.ok(x2 < CHI2_CRIT, `χ² = ${x2.toFixed(1)} over ${v.count} elements exceeds ${CHI2_CRIT}`);
      }
    });

    it(`worker ${w}: statistics do not depend on the input`, () => {
      const a = vZero[w];
      const b = vRamp[w];
      assert.equal(a.count, b.count, 'same number of elements (shapes only)');
      // mean and variance of a uniform centred element: 0 and (P² − 1)/12
      const sd = Math.sqrt((P * P - 1) / 12);
      for (const v of [a, b]) {
        const mean = v.sum / v.count;
        const variance = v.sumSq / v.count - mean * mean;
        assert.ok(Math.abs(mean) < (6 * sd) / Math.sqrt(v.count), `mean ${mean} is not ≈ 0`);
        assert.ok(Math.abs(variance / (sd * sd) - 1) < 0.05, `variance ratio ${variance / (sd * sd)}`);
      }
      // two-sample χ² between the two inputs' histograms
      let x2 = 0;
      for (let k = 0; k < BINS; k++) {
        const s = a.histogram[k] + b.histogram[k];
        if (s > 0) x2 += (a.histogram[k] - b.histogram[k]) ** 2 / s;
      }
      assert.ok(x2 < CHI2_CRIT, `two-sample χ² = ${x2.toFixed(1)}: the view depends on the input`);
    });

    it(`worker ${w}: no plaintext input bytes or quantized input values reach the worker`, () => {
      const rawRamp = Buffer.from(ramp.data.buffer, ramp.data.byteOffset, ramp.data.byteLength);
      for (const t of vRamp[w].tensors) {
        const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        // no 16-byte window of the raw float input appears in any payload
        for (let off = 0; off + 16 <= rawRamp.length; off += 64) {
          assert.equal(bytes.indexOf(rawRamp.subarray(off, off + 16)), -1, `raw input bytes found in ${t.what}`);
        }
        if (t.data.length === ramp.size) {
          // the all-zero input quantizes to all zeros: a payload equal to it in more than a
          // handful of positions would expose it (expected matches: n/P ≈ 0)
          const zerosMatched = t.data.reduce((acc, v) => acc + (v === 0 ? 1 : 0), 0);
          assert.ok(zerosMatched <= 2, `${t.what}: ${zerosMatched} zero entries`);
        }
      }
      for (const t of vZero[w].tensors) {
        if (t.data.length !== zeros.size) continue;
        const zerosMatched = t.data.reduce((acc, v) => acc + (v === 0 ? 1 : 0), 0);
        assert.ok(zerosMatched <= 2, `${t.what} carries the all-zero input in ${zerosMatched} places`);
      }
    });
  }
});
