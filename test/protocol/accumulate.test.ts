/**
 * RunOptions.accumulate (a layer's weight gradient added in place, src/nn/accumulation.ts): every executor
 * gives exactly the bits of a separate product followed by `c += d`, into a zero and a non-zero c, and an op
 * whose first attempt overflows (and is re-run with more headroom) adds its result once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import type { BilinearOp } from '../../src/backend/bilinear.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import { nnKernels } from '../../src/nn/kernels/index.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import { startLocalCluster } from '../../src/roles/local-cluster.js';

const backend = createJsBackend();
const tag = { layer: 'fc', index: 0 };

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

/** For fresh executors from `make` (one per run, so that attempt counters and noise agree): accumulating equals computing and adding. */
async function check(make: () => Promise<{ exec: LinearExecutor; close(): Promise<void> }>, op: BilinearOp, a: Float32Array, b: Float32Array, n: number): Promise<void> {
  for (const start of [new Float32Array(n), values(n, 9, 0.25)]) {
    const runs: Float32Array[] = [];
    for (const fused of [false, true]) {
      const { exec, close } = await make();
      try {
        const c = start.slice();
        if (fused) {
          await exec.run(op, tag, a, b, c, { accumulate: true });
        } else {
          const d = new Float32Array(n);
          await exec.run(op, tag, a, b, d);
          nnKernels().accumulate(c, d);
        }
        runs.push(c);
      } finally {
        await close();
      }
    }
    assert.deepEqual(Buffer.from(runs[1].buffer), Buffer.from(runs[0].buffer), `${start[0] === 0 ? 'zero' : 'non-zero'} accumulator`);
  }
}

describe('accumulating ops (c += f(a, b))', () => {
  const small: BilinearOp = { layer: 'linear', pass: 'grad-weight', geom: { batch: 3, inF: 7, outF: 5 } };
  // all-ones operands (quantized to 64) with K = 200: 200·64² = 819 200 lies in the guard band at headroom 0,
  // 200·16² = 51 200 fits at headroom 2 (one retry)
  const big: BilinearOp = { layer: 'linear', pass: 'grad-weight', geom: { batch: 200, inF: 3, outF: 2 } };
  const cases = [
    { name: 'ordinary', op: small, a: values(15, 1, 1), b: values(21, 2, 3), n: 35, overflows: 0 },
    { name: 'overflowing once', op: big, a: new Float32Array(200 * 2).fill(1), b: new Float32Array(200 * 3).fill(1), n: 6, overflows: 1 },
  ];
  for (const cs of cases) {
    it(`plain, ${cs.name}`, () => check(async () => ({ exec: new PlainExecutor(backend), close: async () => {} }), cs.op, cs.a, cs.b, cs.n));

    it(`quantized, ${cs.name}`, async () => {
      const q = new QuantizedExecutor({ backend, seed: 3 });
      await q.run(cs.op, tag, cs.a, cs.b, new Float32Array(cs.n), { accumulate: true });
      assert.equal(q.stats().overflows, cs.overflows, 'the retries happened');
      await check(async () => ({ exec: new QuantizedExecutor({ backend, seed: 3 }), close: async () => {} }), cs.op, cs.a, cs.b, cs.n);
    });

    for (const protocol of ['lean', 'goten'] as const) {
      it(`secure (${protocol}), ${cs.name}`, () =>
        check(
          async () => {
            const cluster = await startLocalCluster({ protocol, backend, topology: 'single', noiseKey: noiseKeyFromSeed(3) });
            return { exec: cluster.executors[0], close: () => cluster.close() };
          },
          cs.op,
          cs.a,
          cs.b,
          cs.n,
        ));
    }
  }
});
