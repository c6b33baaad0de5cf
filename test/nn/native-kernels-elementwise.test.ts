/**
 * Native elementwise kernels (ReLU, accumulate, multiply, channel bias add/reduce) against the
 * TypeScript reference, bit for bit, in both native loop variants, on lengths that are not
 * multiples of the vector width and on awkward values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceNnKernels as ref } from '../../src/nn/kernels/index.js';
import { assertSameBits, awkward, cancelling, clones, forEachNative, skipNative, uniform } from './kernels-helpers.js';

const LENGTHS = [1, 3, 7, 8, 9, 31, 33, 1000, 4099];

describe('native elementwise kernels = reference, bit for bit', { skip: skipNative }, () => {
  it('ReLU forward and backward (−0, NaN, ±∞, subnormals)', () => {
    forEachNative((k, v) => {
      for (const n of LENGTHS) {
        const x = awkward(n, n);
        x[0] = -0;
        if (n > 2) x[2] = NaN;
        const want = new Float32Array(n);
        ref.reluForward(x, want);
        const y = new Float32Array(n).fill(7);
        k.reluForward(x, y);
        assertSameBits(y, want, `${v} relu forward n=${n}`);
        assert.ok(Object.is(y[0], 0), 'relu(−0) is +0');
        const dy = awkward(n, n + 1);
        const dxWant = new Float32Array(n);
        ref.reluBackward(want, dy, dxWant);
        const dx = new Float32Array(n).fill(7);
        k.reluBackward(want, dy, dx);
        assertSameBits(dx, dxWant, `${v} relu backward n=${n}`);
      }
    });
  });

  it('accumulate and multiply', () => {
    forEachNative((k, v) => {
      for (const n of LENGTHS) {
        const acc = awkward(n, 2 * n, false);
        const d = uniform(n, 3 * n, 1e-3);
        const [accRef] = clones(acc);
        ref.accumulate(accRef, d);
        k.accumulate(acc, d);
        assertSameBits(acc, accRef, `${v} accumulate n=${n}`);
        const m = awkward(n, 5 * n);
        const yRef = new Float32Array(n);
        ref.multiply(d, m, yRef);
        const y = new Float32Array(n);
        k.multiply(d, m, y);
        assertSameBits(y, yRef, `${v} multiply n=${n}`);
      }
    });
  });

  it('addChannelBias and reduceChannelBias (plane 1 for linear layers, odd planes for convs)', () => {
    forEachNative((k, v) => {
      for (const [batch, channels, plane] of [[1, 1, 1], [1, 3, 5], [2, 5, 7], [3, 7, 9], [4, 3, 17], [5, 11, 1], [2, 3, 64], [1, 2, 1023]]) {
        const n = batch * channels * plane;
        const b = uniform(channels, n);
        const y = awkward(n, n + 1, false);
        const [yRef] = clones(y);
        ref.addChannelBias(yRef, b, batch, channels, plane);
        k.addChannelBias(y, b, batch, channels, plane);
        assertSameBits(y, yRef, `${v} addChannelBias ${batch}x${channels}x${plane}`);
        const dy = cancelling(n, n + 2);
        const g = uniform(channels, n + 3);
        const [gRef] = clones(g);
        ref.reduceChannelBias(gRef, dy, batch, channels, plane);
        k.reduceChannelBias(g, dy, batch, channels, plane);
        assertSameBits(g, gRef, `${v} reduceChannelBias ${batch}x${channels}x${plane}`);
      }
    });
  });
});

describe('reference reduceChannelBias', () => {
  it('is the float64 sum of the channel, within rounding', () => {
    const [batch, channels, plane] = [3, 4, 21];
    const dy = uniform(batch * channels * plane, 9);
    const g = new Float32Array(channels);
    ref.reduceChannelBias(g, dy, batch, channels, plane);
    for (let c = 0; c < channels; c++) {
      let s = 0;
      for (let n = 0; n < batch; n++) for (let i = 0; i < plane; i++) s += dy[(n * channels + c) * plane + i];
      assert.ok(Math.abs(g[c] - s) <= 1e-6 * (1 + Math.abs(s)), `channel ${c}: ${g[c]} vs ${s}`);
    }
  });
});
