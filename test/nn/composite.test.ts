/**
 * Gradient checks of composed layers (residual blocks, whole models) and of the
 * softmax cross-entropy, against float64 references and finite differences.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Residual } from '../../src/nn/layers/residual.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';
import { buildLayers } from '../../src/nn/models/build.js';
import type { ModelConfig } from '../../src/nn/models/config.js';
import { buildModel } from '../../src/nn/models/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose, assertGradClose, crossEntropyRef, dot, f64, numericGrad, plainContext, randomArray, sampleIndices } from './helpers.js';
import { type ParamMap, refChain } from './ref-model.js';

describe('softmax cross-entropy', () => {
  it('loss, gradient (vs finite differences) and correct count', () => {
    const B = 4;
    const K = 5;
    const z = randomArray(B * K, 71, 3);
    const labels = [0, 3, 4, 1];
    const r = softmaxCrossEntropy(new Tensor([B, K], z), labels);
    assert.ok(Math.abs(r.loss - crossEntropyRef(B, K, z, labels)) < 1e-12);
    const num = numericGrad((v) => crossEntropyRef(B, K, v, labels), f64(z));
    assertGradClose(r.grad.data, num, 'dlogits', 1e-4, 1e-5);
    let correct = 0;
    for (let b = 0; b < B; b++) {
      const row = Array.from(z.subarray(b * K, b * K + K));
      if (row.indexOf(Math.max(...row)) === labels[b]) correct++;
    }
    assert.equal(r.correct, correct);
  });

  it('is stable for huge logits and rejects bad labels', () => {
    const r = softmaxCrossEntropy(new Tensor([1, 3], Float32Array.from([1000, 0, -1000])), [1]);
    assert.ok(Math.abs(r.loss - 1000) < 1e-9);
    assert.ok(Array.from(r.grad.data).every(Number.isFinite));
    assert.throws(() => softmaxCrossEntropy(new Tensor([1, 3]), [3]), /out of range/);
    assert.throws(() => softmaxCrossEntropy(new Tensor([2, 3]), [0]), /labels/);
  });
});

/** Checks a chain of layers (all parameters and the input) against the float64 interpreter. */
async function checkChain(config: ModelConfig, shape: number[], training: boolean, seed: number): Promise<void> {
  const ctx = await plainContext(seed);
  const layers = buildLayers(config, ctx, shape.slice(1), 10);
  const x = randomArray(shape.reduce((a, b) => a * b, 1), seed + 1);
  const params = layers.flatMap((l) => l.parameters());
  for (const p of params) p.value.set(p.value.map((v, i) => v + 0.1 * Math.sin(i + 1))); // non-trivial γ, β, biases
  const P: ParamMap = new Map(params.map((p) => [p.name, f64(p.value)]));
  let h = new Tensor(shape, x);
  for (const l of layers) h = await l.forward(h, training);
  const ref = refChain(layers, { x: f64(x), shape }, P, training);
  assert.deepEqual(h.shape, ref.shape);
  assertClose(h.data, ref.x, { rtol: 1e-4, atol: 1e-4 }, 'forward');
  const r = randomArray(h.size, seed + 2);
  let g: Tensor | null = new Tensor(h.shape, r);
  for (let i = layers.length - 1; i >= 0 && g !== null; i--) g = await layers[i].backward(g, true);
  assert.ok(g !== null);
  const X = f64(x);
  const loss = (xv: Float64Array, pm: ParamMap): number => dot(r, refChain(layers, { x: xv, shape }, pm, training).x);
  assertGradClose(g.data, numericGrad((v) => loss(v, P), X, sampleIndices(X.length, 25, seed)), 'dx');
  params.forEach((p, k) => {
    const pv = P.get(p.name) as Float64Array;
    const f = (v: Float64Array): number => loss(X, new Map([...P, [p.name, v]]));
    assertGradClose(p.grad, numericGrad(f, pv, sampleIndices(pv.length, 12, seed + k)), `${p.name} grad`);
  });
}

const block = (planes: number, stride: number, project: boolean): ModelConfig['layers'][number] => ({
  type: 'residual',
  body: [
    { type: 'conv', out: planes, kernel: 3, stride, pad: 1 },
    { type: 'bn' },
    { type: 'relu' },
    { type: 'conv', out: planes, kernel: 3, pad: 1, bias: true },
  ],
  shortcut: project ? [{ type: 'conv', out: planes, kernel: 1, stride }, { type: 'bn' }] : [],
});

describe('residual blocks', () => {
  it('projection shortcut (strided 1×1 conv + BN)', async () => {
    await checkChain({ name: 'r', layers: [block(3, 2, true)] }, [2, 2, 6, 6], true, 81);
  });
  it('identity shortcut', async () => {
    await checkChain({ name: 'r', layers: [block(3, 1, false)] }, [2, 3, 5, 5], true, 82);
  });
  it('rejects branches of different shapes', async () => {
    const ctx = await plainContext();
    assert.throws(() => buildLayers({ name: 'r', layers: [block(4, 2, false)] }, ctx, [4, 6, 6], 10), /shortcut gives/);
    assert.throws(() => new Residual('r', ctx, [], []), /at least one layer/);
  });
});

describe('a whole model with every layer type', () => {
  const config: ModelConfig = {
    name: 'everything',
    layers: [
      { type: 'conv', out: 4, kernel: 3, pad: 1, bias: true },
      { type: 'bn2d' },
      { type: 'relu' },
      { type: 'maxpool', kernel: 3, stride: 2, pad: 1 },
      block(4, 1, false),
      { type: 'relu' },
      block(5, 2, true),
      { type: 'avgpool', kernel: 2, stride: 1, ceil: true },
      { type: 'dropout', p: 0 },
      { type: 'flatten' },
      { type: 'linear', out: 6, bias: false },
      { type: 'bn1d' },
      { type: 'relu' },
      { type: 'linear', out: 'classes' },
    ],
  };
  for (const training of [true, false]) {
    it(`every parameter gradient, ${training ? 'training' : 'inference'} mode`, async () => {
      await checkChain(config, [3, 2, 9, 9], training, training ? 91 : 92);
    });
  }

  it('model.backward of the cross-entropy loss matches finite differences of the float64 model', async () => {
    const ctx = await plainContext();
    const model = buildModel(
      { ...config, layers: [...config.layers.slice(0, 7), { type: 'gap' }, { type: 'linear', out: 'classes' }] },
      { inputShape: [2, 8, 8], numClasses: 3, seed: 5, executor: ctx.executor },
    );
    const x = randomArray(2 * 2 * 64, 93);
    const labels = [2, 0];
    const logits = await model.forward(new Tensor([2, 2, 8, 8], x), true);
    const { grad } = softmaxCrossEntropy(logits, labels);
    model.zeroGrad();
    await model.backward(grad);
    const P: ParamMap = new Map(model.parameters().map((p) => [p.name, f64(p.value)]));
    const loss = (pm: ParamMap): number => crossEntropyRef(2, 3, refChain(model.layers, { x: f64(x), shape: [2, 2, 8, 8] }, pm, true).x, labels);
    for (const p of model.parameters()) {
      const pv = P.get(p.name) as Float64Array;
      assertGradClose(p.grad, numericGrad((v) => loss(new Map([...P, [p.name, v]])), pv, sampleIndices(pv.length, 6, 3)), p.name);
    }
  });
});
