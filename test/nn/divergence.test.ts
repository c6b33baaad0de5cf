/**
 * The divergence guard on loss sequences: what must stop a run (NaN, an exploding
 * batch, a loss that stays far above its best) and what must not (noisy small
 * batches, a rough start, single spikes, warm-up bumps); the suggested --lr.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DivergenceGuard, describeDivergence, suggestLr } from '../../src/nn/divergence.js';
import { Rng } from '../../src/nn/rng.js';

/** Feeds `losses` from step 1; returns the first verdict (or null). */
function run(losses: readonly number[], guard = new DivergenceGuard({ numClasses: 10 })) {
  for (let i = 0; i < losses.length; i++) {
    const v = guard.observe(i + 1, losses[i]);
    if (v) return v;
  }
  return null;
}

const repeat = (x: number, n: number): number[] => new Array<number>(n).fill(x);

describe('DivergenceGuard: stops', () => {
  it('at the first non-finite loss', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const v = run([2.3, 2.1, 1.9, bad, 1.0]);
      assert.equal(v?.reason, 'non-finite');
      assert.equal(v?.step, 4);
      assert.ok(Object.is(v?.loss, bad));
    }
  });

  it('at a batch whose loss explodes (100 × (best + ln K))', () => {
    const v = run([2.3, 2.0, 1.5, 1.2, 1e4]);
    assert.equal(v?.reason, 'loss-exploded');
    assert.equal(v?.step, 5);
    // just under the line passes (the EMA best is above 1.2, so 100·(1.2 + ln 10) is surely under it)
    assert.equal(run([2.3, 2.0, 1.5, 1.2, 100 * (1.2 + Math.log(10))]), null);
  });

  it('when the smoothed loss stays above 2·best + ln K for `patience` steps, not one step earlier', () => {
    const guard = () => new DivergenceGuard({ numClasses: 10, window: 1, patience: 5 }); // window 1: EMA = loss
    const losses = [...repeat(1, 10), ...repeat(20, 5)];
    const v = run(losses, guard());
    assert.equal(v?.reason, 'loss-high');
    assert.equal(v?.step, 15);
    assert.equal(v?.steps, 5);
    assert.equal(v?.best, 1);
    assert.ok(Math.abs(v!.limit - (2 + Math.log(10))) < 1e-12);
    assert.equal(run(losses.slice(0, 14), guard()), null);
    // a dip below the line resets the count
    assert.equal(run([...repeat(1, 10), ...repeat(20, 4), 1, ...repeat(20, 4)], guard()), null);
  });

  it('with default settings, a loss that climbs and stays high, within 40 steps of the climb', () => {
    const losses = [...Array.from({ length: 60 }, (_, i) => 2.3 * Math.exp(-i / 20)), ...repeat(8, 100)];
    const v = run(losses);
    assert.equal(v?.reason, 'loss-high');
    assert.ok(v!.step > 60 && v!.step <= 100, `step ${v!.step}`);
    assert.match(describeDivergence(v!, { epoch: 2, batch: 5, batchesPerEpoch: 64, lr: 0.05 }), /^training diverged at step \d+ \(epoch 2, batch 5\/64, lr 0.05\): the smoothed loss stayed far above its best/);
  });
});

describe('DivergenceGuard: healthy runs pass', () => {
  it('noisy batches of one image: losses of 0 or 2–6 around a falling mean', () => {
    const rng = new Rng(3);
    const losses: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const errorRate = Math.max(0.02, 0.9 * Math.exp(-i / 2000)); // 90 % wrong at first, 2 % at the end
      losses.push(rng.nextDouble() < errorRate ? 2 + 4 * rng.nextDouble() : 0.01 * rng.nextDouble());
    }
    assert.equal(run(losses, new DivergenceGuard({ numClasses: 10, batchSize: 1 })), null);
    assert.equal(run(losses, new DivergenceGuard({ numClasses: 2, batchSize: 1 })), null);
  });

  it('a rough start (the loss rises to 4× its first value for 10 steps) and single spikes', () => {
    const start = [2.3, 3.3, 6.3, 9.3, 8.2, 5.8, 7.4, 5.4, 7.0, 3.8, 1.9, 1.7, ...Array.from({ length: 200 }, (_, i) => 1.5 * Math.exp(-i / 40))];
    assert.equal(run(start), null);
    const spiky = [...start, 56, ...repeat(0.01, 30), 15, 12.9, ...repeat(0.01, 30)];
    assert.equal(run(spiky), null);
  });

  it('a warm-up bump: the loss doubles for 50 steps while the rate is still rising', () => {
    const losses = [...Array.from({ length: 100 }, (_, i) => 2.3 - i / 50), ...repeat(0.6, 50), ...repeat(0.3, 100)];
    assert.equal(run(losses), null);
  });

  it('alarmed while above the line, clear again below it', () => {
    const g = new DivergenceGuard({ numClasses: 10, window: 1, patience: 5 });
    for (let i = 1; i <= 5; i++) g.observe(i, 1);
    assert.equal(g.alarmed, false);
    g.observe(6, 20);
    assert.equal(g.alarmed, true);
    g.observe(7, 1);
    assert.equal(g.alarmed, false);
  });

  it('refuses nonsense settings', () => {
    assert.throws(() => new DivergenceGuard({ numClasses: 1 }), /numClasses/);
    assert.throws(() => new DivergenceGuard({ numClasses: 10, patience: 0 }), /patience/);
    assert.throws(() => new DivergenceGuard({ numClasses: 10, ratio: 0.5 }), /ratio/);
  });
});

describe('suggestLr', () => {
  it("proposes the model recipe's rate when the run used more, else about a quarter on a 1-2-5 grid", () => {
    assert.equal(suggestLr(5, 0.02), 0.02);
    assert.equal(suggestLr(5), 1);
    assert.equal(suggestLr(0.05), 0.01);
    assert.equal(suggestLr(0.05, 0.05), 0.01);
    assert.equal(suggestLr(0.02, 0.05), 0.005);
    assert.equal(suggestLr(0.1), 0.02);
    assert.equal(suggestLr(0.001), 0.0002);
  });
});
