/**
 * SGD and Adam/AdamW: the native update kernels equal the reference bit for bit for every
 * option combination, in both loop variants, on lengths around the vector width; and SGD/Adam
 * optimizers running native kernels, resident (step) or chunked (updateParameter with streamed
 * slots), equal the reference-kernel optimizer over several steps. One case is built so that a
 * fused multiply-add would round differently: the kernels must not fuse.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdamStep, type NnKernels, referenceNnKernels as ref, type SgdStep } from '../../src/nn/kernels/index.js';
import type { Parameter } from '../../src/nn/layers/parameter.js';
import { Adam, type FusableOptimizer, SGD, type SlotStream } from '../../src/nn/optim.js';
import { assertSameBits, awkward, clones, forEachNative, forEachNativeAsync, skipNative, uniform } from './kernels-helpers.js';

const LENGTHS = [1, 3, 4, 5, 8, 13, 1000, 4099];

function sgdSteps(): SgdStep[] {
  const out: SgdStep[] = [];
  for (const momentum of [0, 0.9, -0.5])
    for (const dampFactor of [1, 0.7])
      for (const nesterov of [false, true])
        for (const weightDecay of [0, 5e-4])
          for (const first of [true, false]) if (!nesterov || (momentum > 0 && dampFactor === 1)) out.push({ lr: 0.05, momentum, dampFactor, weightDecay, first, nesterov });
  return out;
}

function adamSteps(): AdamStep[] {
  const out: AdamStep[] = [];
  for (const t of [1, 2, 37])
    for (const decoupled of [false, true])
      for (const wd of [0, 0.01]) {
        const lr = 1e-3;
        out.push({ beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: decoupled ? 0 : wd, shrink: decoupled ? 1 - lr * wd : 1, stepSize: lr / (1 - 0.9 ** t), sqrtBc2: Math.sqrt(1 - 0.999 ** t) });
      }
  return out;
}

describe('native optimizer kernels = reference, bit for bit', { skip: skipNative }, () => {
  it('SGD: momentum 0 / positive / negative, dampening, Nesterov, weight decay, first step', () => {
    forEachNative((k, v) => {
      sgdSteps().forEach((s, i) => {
        for (const n of LENGTHS) {
          const w = awkward(n, i * 100 + n, false);
          const g = uniform(n, i * 100 + n + 1, 0.1);
          const buf = s.momentum !== 0 ? uniform(n, i * 100 + n + 2, 0.1) : null;
          const [wr, br] = [w.slice(), buf?.slice() ?? null];
          ref.sgdUpdate(s, wr, g, br);
          k.sgdUpdate(s, w, g, buf);
          assertSameBits(w, wr, `${v} sgd ${JSON.stringify(s)} n=${n} w`);
          if (buf && br) assertSameBits(buf, br, `${v} sgd ${JSON.stringify(s)} n=${n} buffer`);
        }
      });
    });
  });

  it('Adam and AdamW at steps 1, 2, 37, with and without weight decay', () => {
    forEachNative((k, v) => {
      adamSteps().forEach((s, i) => {
        for (const n of LENGTHS) {
          const w = awkward(n, i * 100 + n, false);
          const g = uniform(n, i * 100 + n + 1, 0.1);
          const m = uniform(n, i * 100 + n + 2, 0.01);
          const vv = uniform(n, i * 100 + n + 3, 1e-4).map(Math.abs);
          const [wr, mr, vr] = clones(w, m, vv);
          ref.adamUpdate(s, wr, g, mr, vr);
          k.adamUpdate(s, w, g, m, vv);
          assertSameBits(w, wr, `${v} adam ${JSON.stringify(s)} n=${n} w`);
          assertSameBits(m, mr, `${v} adam n=${n} m`);
          assertSameBits(vv, vr, `${v} adam n=${n} v`);
        }
      });
    });
  });

  it('no fused multiply-add: w − lr·g is rounded twice, as in the reference', () => {
    // With w = 1, g = 3 and r = fl(3·lr) chosen so that t = 1 − r lies exactly halfway between two
    // float32 values, the reference rounds t to even; a fused 1 − 3·lr keeps the residual
    // δ = 3·lr − r ≠ 0 and rounds t − δ to the other neighbour whenever −δ points away from even.
    let cases = 0;
    for (let kk = 1; kk < 64 && cases < 4; kk++) {
      const t = 2 ** -7 + kk * 2 ** -30 + 2 ** -31; // a float32 midpoint in [2^-7, 2^-6)
      const r = 1 - t;
      const lr = r / 3;
      if (3 * lr !== r) continue;
      const delta = Number(3n * BigInt(lr * 2 ** 60) - BigInt(r * 2 ** 60)) * 2 ** -60;
      const unfused = Math.fround(1 - 3 * lr);
      const fused = Math.fround(t - delta);
      if (unfused === fused) continue;
      cases++;
      forEachNative((k, v) => {
        const w = new Float32Array(9).fill(1); // 8 through the AVX2 loop, 1 through the scalar tail
        k.sgdUpdate({ lr, momentum: 0, dampFactor: 1, weightDecay: 0, first: true, nesterov: false }, w, new Float32Array(9).fill(3), null);
        for (const x of w) assert.equal(x, unfused, `${v}: lr=${lr} gave ${x}; reference ${unfused}, fused ${fused}`);
      });
    }
    assert.ok(cases >= 2, 'found inputs on which a fused multiply-add differs');
  });
});

/** Parameters of odd sizes, one without weight decay; value and gradient random. */
function makeParams(seed: number): Parameter[] {
  return [13, 1, 100, 7].map((n, i) => ({ name: `p${i}`, shape: [n], value: uniform(n, seed + i), grad: uniform(n, seed + 10 + i, 0.1), decay: i !== 2 }));
}

/** Slots streamed in chunks of `chunkElems` from `state[slot]` (copies in, copies back), as sealed parameters do. */
function stream(state: Float32Array[], chunkElems: number): SlotStream {
  return {
    chunkElems,
    open: async (c) => state.map((s) => s.slice(c * chunkElems, Math.min(s.length, (c + 1) * chunkElems))),
    close: async (c, slots) => slots.forEach((x, i) => state[i].set(x, c * chunkElems)),
  };
}

type Make = (params: Parameter[], kernels: NnKernels) => FusableOptimizer;

/** Runs `steps` steps (gradients change each step); chunked: per-parameter updates with streamed slots. */
async function train(make: Make, kernels: NnKernels, chunk: number | null, steps = 4): Promise<Float32Array[]> {
  const params = makeParams(1);
  const opt = make(params, kernels);
  for (let s = 0; s < steps; s++) {
    params.forEach((p, i) => p.grad.set(uniform(p.grad.length, 100 * s + i, 0.1)));
    if (chunk === null) {
      opt.step();
      continue;
    }
    const state = opt.detachState();
    opt.beginStep();
    for (const [i, p] of params.entries()) await opt.updateParameter(p, stream(state.map((slot) => slot[i]), chunk));
    opt.endStep();
    opt.attachState(state);
  }
  const st = opt.getState();
  return [...params.map((p) => p.value), ...Object.values(st.tensors)];
}

const OPTIMIZERS: [string, Make][] = [
  ['SGD', (p, k) => new SGD(p, { lr: 0.1 }, k)],
  ['SGD momentum + decay', (p, k) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }, k)],
  ['SGD dampening', (p, k) => new SGD(p, { lr: 0.1, momentum: 0.5, dampening: 0.3, weightDecay: 1e-3 }, k)],
  ['SGD Nesterov', (p, k) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }, k)],
  ['Adam', (p, k) => new Adam(p, { lr: 1e-2 }, k)],
  ['Adam + L2', (p, k) => new Adam(p, { lr: 1e-2, weightDecay: 0.01 }, k)],
  ['AdamW', (p, k) => new Adam(p, { lr: 1e-2, weightDecay: 0.01, decoupled: true, beta1: 0.8, beta2: 0.99, eps: 1e-6 }, k)],
];

describe('optimizers on native kernels = on reference kernels', { skip: skipNative }, () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: resident and chunked (chunks of 1, 5, 64), 4 steps`, async () => {
      const want = await train(make, ref, null);
      await forEachNativeAsync(async (k, v) => {
        for (const chunk of [null, 1, 5, 64]) {
          const got = await train(make, k, chunk);
          got.forEach((a, i) => assertSameBits(a, want[i], `${name} ${v} chunk ${chunk} tensor ${i}`));
        }
      });
      const refChunked = await train(make, ref, 5);
      refChunked.forEach((a, i) => assertSameBits(a, want[i], `${name}: reference chunked = resident, tensor ${i}`));
    });
  }
});
