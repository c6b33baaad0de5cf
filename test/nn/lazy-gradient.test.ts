/**
 * Lazily cleared gradients (src/nn/layers/parameter.ts): zeroGradient only marks a gradient zero; the
 * first reader fills it, and a grad-weight op that finds it pending writes instead of adding. A
 * differential check against freshly built models: no value of an earlier step may leak into a later
 * step's gradient, and a second backward without zeroGrad still accumulates.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BilinearOp } from '../../src/backend/bilinear.js';
import { DelegatingExecutor, type OpTag, type RunOptions } from '../../src/nn/executor.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';
import { buildModel } from '../../src/nn/models/index.js';
import { gradientTarget, makeParameter, type Parameter, zeroGradient } from '../../src/nn/layers/parameter.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose, randomArray, testBackend } from './helpers.js';

/** Records whether each grad-weight op was asked to accumulate. */
class AccumulateLog extends DelegatingExecutor {
  readonly gradWeight: boolean[] = [];
  override run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, o?: RunOptions): void | Promise<void> {
    if (op.pass === 'grad-weight') this.gradWeight.push(o?.accumulate === true);
    return this.inner.run(op, tag, a, b, c, o);
  }
}

describe('lazily cleared gradients', () => {
  it('a cleared TensorParameter reads zeros; gradientTarget hands it out once for overwriting', () => {
    const p = makeParameter('w', [2, 3], true);
    p.grad.fill(7);
    zeroGradient(p);
    const t = gradientTarget(p);
    assert.equal(t.overwrite, true);
    assert.equal(gradientTarget(p).overwrite, false, 'only the first writer overwrites');
    t.grad.fill(5); // the writer's result
    assert.deepEqual([...p.grad], [5, 5, 5, 5, 5, 5], 'a read after the write must not clear it again');
    zeroGradient(p);
    assert.deepEqual([...p.grad], [0, 0, 0, 0, 0, 0], 'the first reader fills the pending zero');
    assert.equal(gradientTarget(p).overwrite, false, 'filled: nothing pending any more');
  });

  it('a plain Parameter object is filled at once and never overwritten', () => {
    const p: Parameter = { name: 'w', shape: [3], value: new Float32Array(3), grad: Float32Array.of(1, 2, 3), decay: false };
    zeroGradient(p);
    assert.deepEqual([...p.grad], [0, 0, 0]);
    assert.equal(gradientTarget(p).overwrite, false);
  });

  it('training steps give the gradients of a fresh model; a second backward without zeroGrad adds', async () => {
    const backend = await testBackend();
    const x1 = new Tensor([2, 1, 28, 28], randomArray(2 * 784, 11));
    const x2 = new Tensor([2, 1, 28, 28], randomArray(2 * 784, 12));
    const grads = async (xs: Tensor[], zeroBetween: boolean) => {
      const exec = new AccumulateLog(new PlainExecutor(backend));
      const m = buildModel('mnist-cnn', { inputShape: [1, 28, 28], numClasses: 10, seed: 3, executor: exec });
      for (const p of m.parameters()) p.grad.fill(9); // stale values a lazy clear must hide
      m.zeroGrad();
      for (const [i, x] of xs.entries()) {
        if (i > 0 && zeroBetween) m.zeroGrad();
        await m.backward(softmaxCrossEntropy(await m.forward(x, true), [1, 2]).grad);
      }
      return { g: m.parameters().map((p) => p.grad.slice()), accumulated: exec.gradWeight };
    };
    const only2 = await grads([x2], true);
    const both = await grads([x1, x2], true);
    assert.deepEqual(both.g, only2.g, 'a cleared gradient holds only the last step');
    assert.deepEqual(only2.accumulated, [false, false, false, false], 'pending-zero gradients are written, not added to');
    const sum = await grads([x1, x2], false);
    const only1 = await grads([x1], true);
    assert.deepEqual(sum.accumulated, [false, false, false, false, true, true, true, true]);
    // the plain executor may add inside its GEMM (another rounding order): close, not bit-equal
    for (const [i, g] of sum.g.entries()) assertClose(g, only1.g[i].map((v, k) => v + only2.g[i][k]), { rtol: 1e-5, atol: 1e-7 }, `param ${i}: accumulated`);
  });
});
