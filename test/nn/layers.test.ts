/**
 * Every layer: float32 forward against a float64 direct-loop reference, and the
 * analytic backward (input and parameter gradients) against central finite
 * differences of that float64 reference, L = Σ r ⊙ f(x) with random r.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchNorm } from '../../src/nn/layers/batchnorm.js';
import { Conv2d } from '../../src/nn/layers/conv2d.js';
import { Dropout } from '../../src/nn/layers/dropout.js';
import { Flatten } from '../../src/nn/layers/flatten.js';
import type { Layer } from '../../src/nn/layers/layer.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { AvgPool2d, GlobalAvgPool } from '../../src/nn/layers/avgpool.js';
import { MaxPool2d } from '../../src/nn/layers/pool.js';
import { ReLU } from '../../src/nn/layers/relu.js';
import { Tensor } from '../../src/tensor/tensor.js';
import {
  assertClose,
  assertGradClose,
  bnEvalRef,
  bnTrainRef,
  type Conv,
  convGradRef,
  convOut,
  convRef,
  distinctArray,
  dot,
  f64,
  linearRef,
  numericGrad,
  plainContext,
  type Pool,
  poolRef,
  randomArray,
  sampleIndices,
} from './helpers.js';

type Ref = (x: Float64Array, params: Float64Array[]) => Float64Array;

interface Check {
  layer: Layer;
  x: Float32Array;
  shape: number[];
  ref: Ref;
  training?: boolean;
  fwd?: { rtol?: number; atol?: number };
  samples?: number;
  h?: number;
  seed?: number;
}

/** Runs forward/backward on the layer and checks both against the reference. Returns dx. */
async function gradCheck(c: Check): Promise<Float32Array> {
  const { layer, x, shape, ref } = c;
  const seed = c.seed ?? 7;
  const params = layer.parameters();
  for (const p of params) p.grad.fill(0);
  const P = params.map((p) => f64(p.value));
  const y = await layer.forward(new Tensor(shape, x.slice()), c.training ?? true);
  const yRef = ref(f64(x), P);
  assertClose(y.data, yRef, c.fwd ?? { rtol: 1e-5, atol: 1e-5 }, `${layer.type} forward`);
  const r = randomArray(y.size, seed + 1);
  const dx = await layer.backward(new Tensor(y.shape, r.slice()), true);
  assert.ok(dx !== null);
  assert.deepEqual(dx.shape, shape);
  const X = f64(x);
  const h = c.h ?? 1e-5;
  const k = c.samples ?? 40;
  assertGradClose(dx.data, numericGrad((v) => dot(r, ref(v, P)), X, sampleIndices(X.length, k, seed + 2), h), `${layer.type} dx`);
  params.forEach((p, pi) => {
    const f = (v: Float64Array): number => dot(r, ref(X, P.map((q, j) => (j === pi ? v : q))));
    assertGradClose(p.grad, numericGrad(f, P[pi], sampleIndices(P[pi].length, k, seed + 3 + pi), h), `${p.name} grad`);
  });
  return dx.data.slice();
}

function convGeom(g: Partial<Conv> & Pick<Conv, 'B' | 'C' | 'H' | 'W' | 'O'>): Conv {
  return { kH: 3, kW: 3, sH: 1, sW: 1, pH: 0, pW: 0, ...g };
}

/** A context for the layers that use only its memory (one per file: the memory keys its buffers by layer). */
const ctx0 = await plainContext();

describe('Conv2d', () => {
  const cases: [string, Conv, boolean][] = [
    ['3×3 pad 1 with bias', convGeom({ B: 2, C: 3, H: 7, W: 6, O: 4, pH: 1, pW: 1 }), true],
    ['3×2 kernel, stride 2, pad (1,0)', convGeom({ B: 1, C: 2, H: 9, W: 8, O: 3, kW: 2, sH: 2, sW: 2, pH: 1 }), false],
    ['5×5 stride 3 pad 2', convGeom({ B: 2, C: 2, H: 8, W: 8, O: 2, kH: 5, kW: 5, sH: 3, sW: 3, pH: 2, pW: 2 }), true],
    ['1×1 stride 2 (projection shortcut)', convGeom({ B: 2, C: 4, H: 6, W: 6, O: 3, kH: 1, kW: 1, sH: 2, sW: 2 }), false],
    ['kernel covers the input', convGeom({ B: 2, C: 2, H: 4, W: 4, O: 3, kH: 4, kW: 4 }), true],
  ];
  for (const [label, g, bias] of cases) {
    it(`${label}: forward, backward vs direct loops and finite differences`, async () => {
      const ctx = await plainContext();
      const conv = new Conv2d('c', ctx, { layer: 'c', index: 0 }, {
        inC: g.C, outC: g.O, kH: g.kH, kW: g.kW, strideH: g.sH, strideW: g.sW, padH: g.pH, padW: g.pW, bias,
      });
      conv.weight.value.set(randomArray(conv.weight.value.length, 11, 0.5));
      if (conv.bias) conv.bias.value.set(randomArray(g.O, 12));
      const x = randomArray(g.B * g.C * g.H * g.W, 13);
      const ref: Ref = (xv, P) => convRef(g, xv, P[0], bias ? P[1] : null);
      const dx = await gradCheck({ layer: conv, x, shape: [g.B, g.C, g.H, g.W], ref, h: 1e-3 });
      // and against the direct-loop gradients, all elements
      const [OH, OW] = convOut(g);
      const r = randomArray(g.B * g.O * OH * OW, 8);
      const d = convGradRef(g, x, conv.weight.value, r);
      assertClose(dx, d.dx, { rtol: 1e-4, atol: 1e-5 }, 'dx vs direct');
      assertClose(conv.weight.grad, d.dw, { rtol: 1e-4, atol: 1e-5 }, 'dw vs direct');
      if (conv.bias) assertClose(conv.bias.grad, d.db, { rtol: 1e-4, atol: 1e-5 }, 'db vs direct');
      // a second backward accumulates
      const before = conv.weight.grad.slice();
      await conv.backward(new Tensor([g.B, g.O, OH, OW], r), false);
      assertClose(conv.weight.grad, before.map((v) => 2 * v), { rtol: 1e-6, atol: 1e-7 }, 'accumulated dw');
      assert.deepEqual(conv.outputShape([g.C, g.H, g.W]), [g.O, OH, OW]);
      assert.equal(conv.flops([g.C, g.H, g.W]), 2 * g.O * OH * OW * g.C * g.kH * g.kW);
    });
  }

  it('rejects impossible geometry and wrong channel counts', async () => {
    const conv = new Conv2d('c', await plainContext(), { layer: 'c', index: 0 }, { inC: 2, outC: 2, kH: 5, kW: 5 });
    assert.throws(() => conv.outputShape([2, 3, 3]), /does not fit/);
    await assert.rejects(conv.forward(new Tensor([1, 3, 8, 8]), true), /input channels/);
  });
});

describe('Linear', () => {
  it('with bias: forward and gradients', async () => {
    const lin = new Linear('fc', await plainContext(), { layer: 'fc', index: 0 }, { inF: 7, outF: 5 });
    lin.weight.value.set(randomArray(35, 21, 0.5));
    lin.bias?.value.set(randomArray(5, 22));
    await gradCheck({ layer: lin, x: randomArray(21, 23), shape: [3, 7], ref: (x, P) => linearRef(3, 7, 5, x, P[0], P[1]), h: 1e-3 });
  });

  it('without bias, on a [B,C,H,W] input (implicit flatten)', async () => {
    const lin = new Linear('fc', await plainContext(), { layer: 'fc', index: 0 }, { inF: 8, outF: 3, bias: false });
    lin.weight.value.set(randomArray(24, 24, 0.5));
    await gradCheck({ layer: lin, x: randomArray(16, 25), shape: [2, 2, 2, 2], ref: (x, P) => linearRef(2, 8, 3, x, P[0], null), h: 1e-3 });
  });
});

describe('ReLU, Flatten, GlobalAvgPool', () => {
  it('ReLU', async () => {
    await gradCheck({ layer: new ReLU('r', ctx0), x: distinctArray(60, 31), shape: [2, 3, 10], ref: (x) => x.map((v) => Math.max(v, 0)) });
  });

  it('Flatten is a view with the input shape restored on backward', async () => {
    const f = new Flatten('f');
    const x = randomArray(24, 32);
    const y = await f.forward(new Tensor([2, 3, 2, 2], x), true);
    assert.deepEqual(y.shape, [2, 12]);
    await gradCheck({ layer: f, x, shape: [2, 3, 2, 2], ref: (v) => v });
  });

  it('GlobalAvgPool', async () => {
    const ref: Ref = (x) => {
      const y = new Float64Array(6);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 20; j++) y[i] += x[i * 20 + j] / 20;
      return y;
    };
    await gradCheck({ layer: new GlobalAvgPool('g', ctx0), x: randomArray(120, 33), shape: [2, 3, 4, 5], ref });
  });
});

describe('pooling', () => {
  const cases: [string, Pool, number, number][] = [
    ['2×2 stride 2', { kH: 2, kW: 2, sH: 2, sW: 2, pH: 0, pW: 0, ceil: false }, 6, 8],
    ['3×3 stride 2 pad 1', { kH: 3, kW: 3, sH: 2, sW: 2, pH: 1, pW: 1, ceil: false }, 7, 6],
    ['3×3 stride 1 pad 1 (overlapping)', { kH: 3, kW: 3, sH: 1, sW: 1, pH: 1, pW: 1, ceil: false }, 5, 5],
    ['2×2 ceil mode on odd size', { kH: 2, kW: 2, sH: 2, sW: 2, pH: 0, pW: 0, ceil: true }, 7, 5],
    ['3×3 stride 2 ceil, overhanging windows', { kH: 3, kW: 3, sH: 2, sW: 2, pH: 0, pW: 1, ceil: true }, 8, 8],
  ];
  for (const [label, g, H, W] of cases) {
    const opts = { kH: g.kH, kW: g.kW, strideH: g.sH, strideW: g.sW, padH: g.pH, padW: g.pW, ceil: g.ceil };
    it(`MaxPool2d ${label}`, async () => {
      await gradCheck({ layer: new MaxPool2d('p', ctx0, opts), x: distinctArray(2 * 3 * H * W, 41), shape: [2, 3, H, W], ref: (x) => poolRef('max', 6, H, W, g, x).y });
    });
    it(`AvgPool2d ${label}`, async () => {
      await gradCheck({ layer: new AvgPool2d('p', ctx0, opts), x: randomArray(2 * 3 * H * W, 42), shape: [2, 3, H, W], ref: (x) => poolRef('avg', 6, H, W, g, x).y });
    });
  }

  it('max-pool ties go to the first maximum', async () => {
    const p = new MaxPool2d('p', ctx0, { kH: 2, kW: 2 });
    await p.forward(new Tensor([1, 1, 2, 2], Float32Array.from([1, 3, 3, 3])), true);
    const dx = await p.backward(new Tensor([1, 1, 1, 1], Float32Array.from([5])), true);
    assert.deepEqual(Array.from(dx?.data ?? []), [0, 5, 0, 0]);
  });

  it('rejects padding above half the kernel and windows that do not fit', () => {
    assert.throws(() => new MaxPool2d('p', ctx0, { kH: 2, kW: 2, padH: 2 }), /half the kernel/);
    assert.throws(() => new MaxPool2d('p', ctx0, { kH: 3, kW: 3 }).outputShape([1, 2, 2]), /does not fit/);
  });
});

describe('BatchNorm', () => {
  for (const [kind, shape] of [
    ['2d', [3, 4, 3, 2]],
    ['1d', [5, 3]],
    ['1d', [2, 3, 4]],
  ] as ['1d' | '2d', number[]][]) {
    it(`BatchNorm${kind} ${JSON.stringify(shape)}: training forward/backward, running stats, inference`, async () => {
      const [B, C] = shape;
      const S = shape.slice(2).reduce((a, b) => a * b, 1);
      const bn = new BatchNorm('bn', ctx0, kind, { channels: C });
      bn.weight.value.set(randomArray(C, 51, 0.5).map((v) => 1 + v));
      bn.bias.value.set(randomArray(C, 52));
      const x = randomArray(B * C * S, 53, 2).map((v, i) => v + (i % 3));
      await gradCheck({ layer: bn, x, shape, ref: (v, P) => bnTrainRef(B, C, S, v, P[0], P[1]).y, fwd: { rtol: 1e-4, atol: 1e-5 } });
      // running statistics after one step: momentum 0.1, unbiased variance
      const { mean, varBiased } = bnTrainRef(B, C, S, x, bn.weight.value, bn.bias.value);
      const N = B * S;
      assertClose(bn.runningMean.value, mean.map((m) => 0.1 * m), { rtol: 1e-5, atol: 1e-6 }, 'running mean');
      assertClose(bn.runningVar.value, varBiased.map((v) => 0.9 + (0.1 * v * N) / (N - 1)), { rtol: 1e-5, atol: 1e-6 }, 'running var');
      // inference mode uses the running statistics, and its backward is the fixed affine map
      const rm = f64(bn.runningMean.value);
      const rv = f64(bn.runningVar.value);
      await gradCheck({ layer: bn, x, shape, training: false, ref: (v, P) => bnEvalRef(B, C, S, v, P[0], P[1], rm, rv), fwd: { rtol: 1e-4, atol: 1e-5 } });
      assertClose(bn.runningMean.value, rm, { rtol: 0, atol: 0 }, 'inference leaves running mean');
    });
  }

  it('rejects the wrong rank or channel count', () => {
    assert.throws(() => new BatchNorm('bn', ctx0, '2d', { channels: 3 }).outputShape([3]), /expected input/);
    assert.throws(() => new BatchNorm('bn', ctx0, '1d', { channels: 3 }).outputShape([4]), /expected input/);
  });
});

describe('Dropout', () => {
  it('masks from the seeded Rng, scales by 1/(1−p), identity at inference', async () => {
    const ctx = await plainContext(5);
    const d = new Dropout('d', ctx, 0.25);
    const n = 4000;
    const ones = new Float32Array(n).fill(1);
    const mask = (await d.forward(new Tensor([4, n / 4], ones), true)).data.slice();
    const kept = mask.filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6));
    assert.ok(Math.abs(kept.length / n - 0.75) < 0.03, `kept ${kept.length / n}`);
    // same seed → same mask; gradient is dy ⊙ mask
    const ctx2 = await plainContext(5);
    const d2 = new Dropout('d', ctx2, 0.25);
    const x = randomArray(n, 61);
    const y = await d2.forward(new Tensor([4, n / 4], x), true);
    assertClose(y.data, Array.from(x, (v, i) => v * mask[i]), { rtol: 1e-6, atol: 0 }, 'y = x ⊙ m');
    const r = randomArray(n, 62);
    const dx = await d2.backward(new Tensor([4, n / 4], r), true);
    assertClose(dx?.data ?? [], Array.from(r, (v, i) => v * mask[i]), { rtol: 1e-6, atol: 0 }, 'dx = dy ⊙ m');
    const xt = new Tensor([4, n / 4], x);
    assert.equal(await d2.forward(xt, false), xt);
  });
});

describe('weights are initialised when a layer is constructed', () => {
  it('conv and linear: seeded kaiming-normal (or the scheme given), identical for the same seed', async () => {
    const std = (w: Float32Array) => Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    const conv = async (seed: number) => new Conv2d('c', await plainContext(seed), { layer: 'c', index: 0 }, { inC: 16, outC: 32, kH: 3, kW: 3 });
    const a = (await conv(3)).weight.value;
    const b = (await conv(3)).weight.value;
    const c = (await conv(4)).weight.value;
    assert.deepEqual(a, b, 'same seed, same weights');
    assert.notDeepEqual(a, c, 'another seed, other weights');
    // kaiming-normal, fan_in = 16·3·3: σ = √2 / √144
    assert.ok(Math.abs(std(a) / (Math.SQRT2 / 12) - 1) < 0.05, `std ${std(a)}`);
    const ctx = await plainContext(9);
    const lin = new Linear('fc', ctx, { layer: 'fc', index: 0 }, { inF: 400, outF: 50, init: { kind: 'xavier-uniform' } });
    // xavier-uniform: U(−b, b), b = √(6 / 450); σ = b / √3
    const bound = Math.sqrt(6 / 450);
    assert.ok(lin.weight.value.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.abs(std(lin.weight.value) / (bound / Math.sqrt(3)) - 1) < 0.05, `std ${std(lin.weight.value)}`);
    assert.ok(lin.bias !== null && lin.bias.value.every((v) => v === 0), 'biases start at zero');
  });
});
