/**
 * Operand versions (src/protocol/operands.ts): which tensor an attempt uses, when it is reused,
 * and the lean protocol's speculative exponents — a guessed exponent is confirmed by the sweep that
 * quantizes, and a wrong guess gives exactly the results of the rule (checked against the quantized
 * reference with exponents that change from one version to the next).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import type { BilinearOp } from '../../src/backend/bilinear.js';
import { tensorExponent } from '../../src/field/quantize.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { AttemptCounter } from '../../src/protocol/op-streams.js';
import { OperandTracker } from '../../src/protocol/operands.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import { startLocalCluster } from '../../src/roles/local-cluster.js';

const fwd = { a: false, b: false };

describe('operand versions', () => {
  it('forward takes new W and X, grad-weight reuses X with a new dY, grad-input reuses W and dY', () => {
    const t = new OperandTracker(new AttemptCounter());
    const w = new Float32Array([1, 2]);
    const x = new Float32Array([3]);
    const [fw, fx] = t.plan(0, 'forward', fwd, 0, w, x, tensorExponent);
    const [gdy, gx] = t.plan(0, 'grad-weight', { a: false, b: true }, 0, x, x, tensorExponent);
    const [iw, idy] = t.plan(0, 'grad-input', { a: true, b: true }, 0, w, x, tensorExponent);
    assert.deepEqual([fw.fresh, fx.fresh, gdy.fresh, gx.fresh, iw.fresh, idy.fresh], [true, true, true, false, false, false]);
    assert.equal(gx.version, fx.version);
    assert.equal(iw.version, fw.version);
    assert.equal(idy.version, gdy.version);
    // a retry's headroom needs a new version even of a reused operand
    const [rw] = t.plan(0, 'grad-input', { a: true, b: true }, 2, w, x, tensorExponent);
    assert.ok(rw.fresh && rw.version === fw.version + 1 && rw.exp === fw.exp + 2);
  });

  it('speculation: the last exponent is the guess; confirm states the real one', () => {
    const t = new OperandTracker(new AttemptCounter());
    const scan = (x: Float32Array) => tensorExponent(x);
    const [w0] = t.plan(0, 'forward', fwd, 0, new Float32Array([3]), new Float32Array([1]), scan, true);
    assert.equal(w0.guessed, undefined, 'no previous version: the tensor is scanned');
    assert.equal(w0.exp, 1);
    let scanned = 0;
    const counting = (x: Float32Array) => (scanned++, tensorExponent(x));
    const [w1] = t.plan(0, 'forward', fwd, 0, new Float32Array([40]), new Float32Array([1]), counting, true);
    assert.equal(scanned, 0, 'guessed, not scanned');
    assert.ok(w1.guessed && w1.exp === 1);
    const real = t.confirm(0, w1, 40);
    assert.deepEqual([real.exp, real.guessed], [5, undefined]);
    const [w2] = t.plan(0, 'forward', fwd, 0, new Float32Array([40]), new Float32Array([1]), counting, true);
    assert.equal(w2.exp, 5, 'the next guess is the confirmed exponent');
  });

  it('lean secure ops equal the quantized reference when the exponents change between versions (wrong guesses)', async () => {
    const backend = createJsBackend();
    const op: BilinearOp = { layer: 'linear', pass: 'forward', geom: { batch: 3, inF: 5, outF: 4 } };
    const tag = { layer: 'fc', index: 0 };
    const ref = new QuantizedExecutor({ backend, noiseKey: noiseKeyFromSeed(2) });
    const cluster = await startLocalCluster({ protocol: 'lean', backend, topology: 'single', noiseKey: noiseKeyFromSeed(2) });
    try {
      for (const scale of [1, 1, 9, 0.01, 0.01, 300]) {
        const a = Float32Array.from({ length: 20 }, (_, i) => Math.sin(i + scale) * scale);
        const b = Float32Array.from({ length: 15 }, (_, i) => Math.cos(i * scale) / scale);
        const want = new Float32Array(12);
        const got = new Float32Array(12);
        ref.run(op, tag, a, b, want);
        await cluster.executors[0].run(op, tag, a, b, got);
        assert.deepEqual(got, want, `scale ${scale}`);
      }
    } finally {
      await cluster.close();
    }
  });
});
