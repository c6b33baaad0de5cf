/**
 * Linear warm-up in the LR schedules: values per step (in epochs and in steps,
 * across an epoch boundary), the text forms the CLI and model recipes use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatWarmup, hasWarmup, parseSchedule, parseWarmup, withWarmup } from '../../src/nn/schedule.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);
const cosineAt = (lr: number, t: number, total: number): number => (lr * (1 + Math.cos((Math.PI * t) / total))) / 2;

describe('warm-up over steps', () => {
  it('ramps linearly over the first n global steps, across epochs, then follows the schedule', () => {
    const s = parseSchedule('cosine,warmup-steps:6', 0.1, 3); // 4 steps per epoch below
    close(s.lrAt(0, 0, 4), cosineAt(0.1, 0, 3) / 6, 'step 1');
    close(s.lrAt(0, 3, 4), cosineAt(0.1, 0.75, 3) * (4 / 6), 'step 4');
    close(s.lrAt(1, 0, 4), cosineAt(0.1, 1, 3) * (5 / 6), 'step 5 (epoch 2)');
    close(s.lrAt(1, 1, 4), cosineAt(0.1, 1.25, 3), 'step 6: warm-up done');
    close(s.lrAt(2, 3, 4), cosineAt(0.1, 2.75, 3), 'last step');
    const c = parseSchedule('constant,warmup-steps:4', 0.2, 3);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => +c.lrAt(0, i, 10).toFixed(12)), [0.05, 0.1, 0.15, 0.2, 0.2]);
  });

  it('warm-up over one epoch reaches the full rate on the epoch\'s last step', () => {
    const s = parseSchedule('constant,warmup:1', 0.08, 3);
    assert.deepEqual([0, 1, 2, 3].map((i) => s.lrAt(0, i, 4)), [0.02, 0.04, 0.06, 0.08]);
    assert.equal(s.lrAt(1, 0, 4), 0.08);
  });

  it('refuses two warm-ups and unknown options', () => {
    assert.throws(() => parseSchedule('cosine,warmup:1,warmup-steps:10', 0.1, 3), /give the warm-up once/);
    assert.throws(() => parseSchedule('cosine,warmup-steps:1.5', 0.1, 3), /unknown option/);
  });
});

describe('warm-up text', () => {
  it('parses, formats and appends', () => {
    assert.equal(parseWarmup('0'), null);
    assert.equal(parseWarmup('none'), null);
    assert.equal(parseWarmup('0steps'), null);
    assert.deepEqual(parseWarmup('1'), { epochs: 1 });
    assert.deepEqual(parseWarmup(0.5), { epochs: 0.5 });
    assert.deepEqual(parseWarmup('200steps'), { steps: 200 });
    assert.deepEqual(parseWarmup('1 step'), { steps: 1 });
    for (const bad of ['', '-1', 'one', '2.5steps', '3 epochs']) assert.throws(() => parseWarmup(bad), /warm-up/, bad);
    assert.deepEqual(['0', '1', '0.5', '200steps'].map((t) => formatWarmup(parseWarmup(t))), ['0', '1', '0.5', '200steps']);
    assert.equal(withWarmup('cosine', parseWarmup('1')), 'cosine,warmup:1');
    assert.equal(withWarmup('step:30:0.5', parseWarmup('100steps')), 'step:30:0.5,warmup-steps:100');
    assert.equal(withWarmup('cosine', null), 'cosine');
    assert.equal(hasWarmup('cosine,warmup:2'), true);
    assert.equal(hasWarmup('cosine, warmup-steps:5'), true);
    assert.equal(hasWarmup('cosine:0.001'), false);
  });
});
