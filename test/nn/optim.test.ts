/**
 * SGD and Adam against hand-computed updates, state round trips, LR schedules,
 * the Rng and the initialisers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fans, initWeight } from '../../src/nn/init.js';
import type { Parameter } from '../../src/nn/model.js';
import { Adam, SGD } from '../../src/nn/optim.js';
import { Rng } from '../../src/nn/rng.js';
import { cosineLr, parseSchedule, stepLr } from '../../src/nn/schedule.js';
import { assertClose } from './helpers.js';

function param(name: string, w: number[], g: number[], decay = true): Parameter {
  return { name, shape: [w.length], value: Float32Array.from(w), grad: Float32Array.from(g), decay };
}

describe('SGD', () => {
  it('momentum + weight decay, PyTorch semantics (buffer = g on the first step)', () => {
    const p = param('w', [1, -2], [0.5, 0.25]);
    const q = param('b', [3], [1], false); // no decay
    const opt = new SGD([p, q], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    opt.step();
    // g = 0.5 + 0.01·1 = 0.51, buf = 0.51, w = 1 − 0.051
    // g = 0.25 + 0.01·(−2) = 0.23, w = −2 − 0.023
    assertClose(p.value, [0.949, -2.023], { rtol: 1e-6 }, 'step 1');
    assertClose(q.value, [2.9], { rtol: 1e-6 }, 'step 1 (no decay)');
    opt.step();
    // g = 0.5 + 0.01·0.949 = 0.50949, buf = 0.9·0.51 + 0.50949 = 0.96849, w = 0.949 − 0.096849
    // g = 0.25 − 0.02023 = 0.22977, buf = 0.9·0.23 + 0.22977 = 0.43677, w = −2.023 − 0.043677
    assertClose(p.value, [0.852151, -2.066677], { rtol: 1e-6 }, 'step 2');
    assertClose(q.value, [2.9 - 0.1 * 1.9], { rtol: 1e-6 }, 'step 2 (no decay)');
    assert.equal(opt.steps, 2);
  });

  it('plain SGD, dampening and nesterov', () => {
    const a = param('w', [1], [2]);
    new SGD([a], { lr: 0.5 }).step();
    assertClose(a.value, [0], { atol: 1e-7 }, 'plain');
    const b = param('w', [1], [1]);
    const sb = new SGD([b], { lr: 0.1, momentum: 0.5, dampening: 0.5 });
    sb.step(); // buf = 1 → w = 0.9
    sb.step(); // buf = 0.5·1 + 0.5·1 = 1 → w = 0.8
    assertClose(b.value, [0.8], { rtol: 1e-6 }, 'dampening');
    const c = param('w', [1], [1]);
    const sc = new SGD([c], { lr: 0.1, momentum: 0.9, nesterov: true });
    sc.step(); // buf = 1, d = 1 + 0.9 = 1.9 → w = 0.81
    sc.step(); // buf = 1.9, d = 1 + 1.71 = 2.71 → w = 0.539
    assertClose(c.value, [0.539], { rtol: 1e-6 }, 'nesterov');
    assert.throws(() => new SGD([c], { lr: 0.1, nesterov: true }), /nesterov/);
  });

  it('getState/setState resumes exactly', () => {
    const make = (): Parameter => param('w', [1, 2, 3], [0.1, -0.2, 0.3]);
    const p1 = make();
    const o1 = new SGD([p1], { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    o1.step();
    const st = o1.getState();
    assert.deepEqual(Object.keys(st.tensors), ['momentum.w']);
    assert.equal(st.scalars.step, 1);
    const p2 = make();
    p2.value.set(p1.value);
    const o2 = new SGD([p2], { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    o2.setState(st);
    o1.step();
    o2.step();
    assert.deepEqual(p2.value, p1.value);
    assert.throws(() => o2.setState({ tensors: {}, scalars: { step: 1 } }), /missing tensor 'momentum.w'/);
  });
});

describe('Adam', () => {
  it('hand-computed first two steps (L2 and decoupled decay)', () => {
    const p = param('w', [1], [0.5]);
    const opt = new Adam([p], { lr: 0.01 });
    opt.step();
    // m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25 → w = 1 − 0.01·0.5/(0.5 + 1e-8)
    assertClose(p.value, [1 - 0.01 * (0.5 / (0.5 + 1e-8))], { rtol: 1e-7 }, 'step 1');
    p.grad[0] = -0.25;
    opt.step();
    const m = 0.9 * 0.05 + 0.1 * -0.25;
    const v = 0.999 * 0.00025 + 0.001 * 0.0625;
    const expected = Math.fround(1 - 0.01 * (0.5 / (0.5 + 1e-8))) - 0.01 * (m / (1 - 0.81)) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    assertClose(p.value, [expected], { rtol: 1e-6 }, 'step 2');

    const a = param('w', [2], [1]);
    new Adam([a], { lr: 0.1, weightDecay: 0.5, decoupled: true }).step();
    assertClose(a.value, [2 * (1 - 0.05) - 0.1], { rtol: 1e-6 }, 'AdamW');
    const b = param('w', [2], [1]);
    new Adam([b], { lr: 0.1, weightDecay: 0.5 }).step(); // g = 2, first step moves by lr·sign
    assertClose(b.value, [1.9], { rtol: 1e-6 }, 'Adam L2');
  });

  it('state round trip', () => {
    const p1 = param('w', [1, -1], [0.3, 0.1]);
    const o1 = new Adam([p1], { lr: 0.01 });
    o1.step();
    const p2 = param('w', Array.from(p1.value), [0.3, 0.1]);
    const o2 = new Adam([p2], { lr: 0.01 });
    o2.setState(o1.getState());
    o1.step();
    o2.step();
    assert.deepEqual(p2.value, p1.value);
  });
});

describe('LR schedules', () => {
  it('step, cosine, warm-up and parsing', () => {
    const s = stepLr(0.05, 30, 0.5);
    assert.equal(s.lrAt(0, 0, 10), 0.05);
    assert.equal(s.lrAt(29, 9, 10), 0.05);
    assert.equal(s.lrAt(30, 0, 10), 0.025);
    assert.equal(s.lrAt(65, 0, 10), 0.0125);
    const c = cosineLr(0.1, 10, 0.001);
    assert.equal(c.lrAt(0, 0, 100), 0.1);
    assert.ok(Math.abs(c.lrAt(5, 0, 100) - (0.001 + 0.099 / 2)) < 1e-12);
    assert.ok(Math.abs(c.lrAt(2, 50, 100) - (0.001 + (0.099 * (1 + Math.cos((Math.PI * 2.5) / 10))) / 2)) < 1e-12);
    assert.ok(Math.abs(c.lrAt(10, 0, 100) - 0.001) < 1e-12);
    const w = parseSchedule('step:30:0.5,warmup:2', 0.1, 100);
    assert.ok(Math.abs(w.lrAt(0, 0, 10) - 0.1 * (0.1 / 2)) < 1e-12);
    assert.equal(w.lrAt(2, 0, 10), 0.1);
    assert.equal(parseSchedule('constant', 0.3, 5).lrAt(4, 1, 2), 0.3);
    assert.ok(Math.abs(parseSchedule('cosine', 1, 4).lrAt(2, 0, 1) - 0.5) < 1e-12);
    assert.throws(() => parseSchedule('linear', 0.1, 5), /unknown spec/);
    assert.throws(() => parseSchedule('step:x:0.5', 0.1, 5), /bad period/);
  });
});

describe('Rng', () => {
  it('is deterministic, restorable and in range', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    assert.deepEqual(Array.from({ length: 5 }, () => b.nextU32()), xs);
    assert.notDeepEqual(Array.from({ length: 5 }, () => new Rng(43).nextU32()), xs);
    const st = a.getState();
    const after = [a.next(), a.normal(), a.int(7)];
    const c = new Rng(0);
    c.setState(st);
    assert.deepEqual([c.next(), c.normal(), c.int(7)], after);
    assert.throws(() => c.setState([0, 0, 0, 0]), /all-zero/);
    // different seeds beyond 2^32 differ too
    assert.notEqual(new Rng(2 ** 32 + 1).nextU32(), new Rng(1).nextU32());
  });

  it('has the right moments, uniform integers and permutations', () => {
    const r = new Rng(7);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    let u = 0;
    const counts = new Array(5).fill(0);
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      const x = r.next();
      assert.ok(x >= 0 && x < 1);
      u += x;
      counts[r.int(5)]++;
    }
    assert.ok(Math.abs(s / n) < 0.03, `normal mean ${s / n}`);
    assert.ok(Math.abs(s2 / n - 1) < 0.04, `normal variance ${s2 / n}`);
    assert.ok(Math.abs(u / n - 0.5) < 0.01);
    for (const c of counts) assert.ok(Math.abs(c / n - 0.2) < 0.015, `int(5) frequency ${c / n}`);
    const perm = r.shuffle(Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(perm, Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('init', () => {
  it('fans and the standard deviations of every scheme', () => {
    assert.deepEqual(fans([64, 32, 3, 3]), { fanIn: 288, fanOut: 576 });
    const shape = [200, 100, 3, 3];
    const w = new Float32Array(200 * 900);
    const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    const cases: [Parameters<typeof initWeight>[0], number][] = [
      ['kaiming-normal', Math.sqrt(2 / 900)],
      ['kaiming-uniform', Math.sqrt(2 / 900)],
      ['xavier-normal', Math.sqrt(2 / (900 + 1800))],
      ['xavier-uniform', Math.sqrt(2 / (900 + 1800))],
    ];
    for (const [kind, expected] of cases) {
      initWeight(kind, w, shape, new Rng(3));
      assert.ok(Math.abs(std(w) / expected - 1) < 0.02, `${kind}: std ${std(w)} vs ${expected}`);
      if (kind.endsWith('uniform')) {
        const bound = expected * Math.sqrt(3);
        assert.ok(w.every((v) => Math.abs(v) <= bound));
      }
    }
    initWeight('kaiming-normal', w, shape, new Rng(3), { mode: 'fan_out', gain: 1 });
    assert.ok(Math.abs(std(w) / Math.sqrt(1 / 1800) - 1) < 0.02);
  });
});
