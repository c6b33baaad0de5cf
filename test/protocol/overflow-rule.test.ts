/**
 * The overflow rule shared by the quantized reference and the secure executors (overflow.ts): a result
 * in the guard band is counted and re-run with more headroom, at most MAX_RETRIES times, then a clear
 * OverflowError. (An executor-level retry is tested in accumulate.test.ts; an op that stays in the band
 * through every retry cannot be built without wrapping, which is exactly what the band cannot promise to see.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEADROOM_STEP, headroomFor, MAX_RETRIES, OverflowError, resultStands } from '../../src/protocol/overflow.js';
import { GUARD } from '../../src/protocol/reconstruct.js';

describe('the overflow rule', () => {
  it('stands below the guard band, retries inside it, gives up after MAX_RETRIES', () => {
    const stats = { overflows: 0 };
    assert.equal(resultStands(0, GUARD - 1, stats, 'fc', 'forward'), true);
    assert.equal(stats.overflows, 0);
    for (let r = 0; r < MAX_RETRIES; r++) assert.equal(resultStands(r, GUARD, stats, 'fc', 'forward'), false);
    assert.equal(stats.overflows, MAX_RETRIES);
    assert.throws(() => resultStands(MAX_RETRIES, GUARD + 5, stats, 'fc', 'forward'), (e: Error) => e instanceof OverflowError && /fc\/forward/.test(e.message) && /max \|C\| = 524293/.test(e.message));
    assert.equal(stats.overflows, MAX_RETRIES + 1, 'the last flagged attempt is counted too');
    assert.deepEqual([0, 1, 2, 3].map(headroomFor), [0, HEADROOM_STEP, 2 * HEADROOM_STEP, 3 * HEADROOM_STEP]);
  });

});
