/**
 * The lean protocol's culprit search (src/protocol/lean-culprit.ts) on parts computed by the workers' own
 * formulas (lean-compute.ts): honest parts clear every worker and blame the aggregation; a wrong own part
 * names its worker; worker 1's copy of a part differing from its sender's names both; a worker that does not
 * answer is named. Every op kind of a small conv and linear layer, online and offline.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BilinearOp, bilinearSizes, operandKinds } from '../../src/backend/bilinear.js';
import { NamedBuffers } from '../../src/backend/named-buffers.js';
import { createJsBackend } from '../../src/backend/js/index.js';
import { HALF } from '../../src/field/prime.js';
import { subModP } from '../../src/field/share.js';
import { createJsKernels } from '../../src/protocol/enclave-kernels.js';
import { partCheck } from '../../src/protocol/goten-culprit.js';
import { deriveStreamKeys, generateMasterSecret } from '../../src/protocol/key-schedule.js';
import { computeLean0, computeLean1, computeLean2, leanMask } from '../../src/protocol/lean-compute.js';
import { type LeanReports, leanCulprit } from '../../src/protocol/lean-culprit.js';
import type { LeanAttempt } from '../../src/protocol/lean-op.js';
import { ProductVerifier } from '../../src/protocol/product-verifier.js';
import { rng } from '../backend/conformance-ref.js';

const backend = createJsBackend();
const kernels = createJsKernels();
const keys = deriveStreamKeys(generateMasterSecret());
const verifier = new ProductVerifier(backend, 'all');

const OPS: BilinearOp[] = [
  ...(['forward', 'grad-input', 'grad-weight'] as const).map((pass): BilinearOp => ({ layer: 'linear', pass, geom: { batch: 3, inF: 5, outF: 4 } })),
  ...(['forward', 'grad-input', 'grad-weight'] as const).map(
    (pass): BilinearOp => ({ layer: 'conv', pass, geom: { batch: 2, inC: 3, inH: 5, inW: 4, outC: 2, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 } }),
  ),
];

function quantizedOperand(n: number, r: () => number): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
}

/** The honest parts of one attempt, as each worker computes them, and the operands. */
function honestAttempt(op: BilinearOp, seed: number) {
  const [ka, kb] = operandKinds(op.pass);
  const at: LeanAttempt = { op, layer: 2, attempt: 5, operands: [{ kind: ka, version: 3, fresh: true }, { kind: kb, version: 4, fresh: true }] };
  const sz = bilinearSizes(op);
  const r = rng(seed);
  const aq = quantizedOperand(sz.a, r);
  const bq = quantizedOperand(sz.b, r);
  const pool = new NamedBuffers();
  const e = subModP(aq, leanMask(kernels, keys, at.layer, at.operands[0], sz.a, pool, 'u'), new Int32Array(sz.a));
  const f = subModP(bq, leanMask(kernels, keys, at.layer, at.operands[1], sz.b, pool, 'v'), new Int32Array(sz.b));
  const c0 = new Int32Array(sz.c);
  const c1 = new Int32Array(sz.c);
  const z = new Int32Array(sz.c);
  computeLean0(backend, kernels, keys, at, e, f, c0, pool);
  computeLean1(backend, kernels, keys, at, e, f, c1, pool);
  computeLean2(backend, kernels, keys, at, z, pool);
  return { at, aq, bq, c0, c1, z };
}

function plusOne(v: Int32Array): Int32Array {
  const w = v.slice();
  w[0] = w[0] === HALF ? -HALF : w[0] + 1;
  return w;
}

describe('lean culprit search', () => {
  for (const [i, op] of OPS.entries()) {
    it(`${op.layer} ${op.pass}: each case names the right worker`, () => {
      const { at, aq, bq, c0, c1, z } = honestAttempt(op, 40 + i);
      const blame = (reports: LeanReports, online = true) => leanCulprit(partCheck(verifier, kernels, keys, at), kernels, keys, at, aq, bq, reports, online);
      const culprit = (reports: LeanReports, online = true) => blame(reports, online).text;
      const reports = (p0: Int32Array, p1: Int32Array, p2: Int32Array, got0 = p0, got2 = p2): LeanReports => [
        new Map([["C0'", p0]]),
        new Map([["C1'", p1], ["C0'", got0], ["Z'", got2]]),
        new Map([["Z'", p2]]),
      ];
      assert.match(culprit(reports(c0, c1, z)), /worker w1's aggregate S failed verification \(every part passes on its own/);
      assert.equal(culprit(reports(plusOne(c0), c1, z)), "worker w0's result C0' failed verification");
      assert.equal(culprit(reports(c0, plusOne(c1), z)), "worker w1's result C1' failed verification");
      assert.equal(culprit(reports(c0, c1, plusOne(z))), "worker w2's result Z' failed verification");
      assert.equal(culprit(reports(plusOne(c0), c1, plusOne(z))), "worker w0's result C0' and worker w2's result Z' failed verification");
      assert.match(culprit(reports(c0, c1, z, plusOne(c0))), /worker w0 reports a different C0' than worker w1 received/);
      assert.match(culprit(reports(c0, c1, z, c0, plusOne(z))), /worker w2 reports a different Z' than worker w1 received/);
      assert.equal(culprit([reports(c0, c1, z)[0], reports(c0, c1, z)[1], null]), "worker w2 (which did not report its part Z') failed verification");
      // offline: no worker 2; the enclave's own third part is not asked for
      const offline: LeanReports = [new Map([["C0'", c0]]), new Map([["C1'", c1], ["C0'", c0]])];
      assert.match(culprit(offline, false), /every part passes on its own/);
      assert.equal(culprit([new Map([["C0'", c0]]), new Map([["C1'", plusOne(c1)], ["C0'", c0]])], false), "worker w1's result C1' failed verification");
      // the roles named for certain: a spare replaces one only when there is exactly one
      assert.deepEqual(blame(reports(plusOne(c0), c1, z)).parties, ['w0']);
      assert.deepEqual(blame(reports(c0, c1, z)).parties, ['w1']);
      assert.deepEqual(blame(reports(plusOne(c0), c1, plusOne(z))).parties, ['w0', 'w2']);
      assert.deepEqual(blame(reports(c0, c1, z, plusOne(c0))).parties, []);
    });
  }
});
