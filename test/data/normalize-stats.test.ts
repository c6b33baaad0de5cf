import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChannelStats, validateStats } from '../../src/data/normalize.js';

test('validateStats: missing or malformed stats (e.g. from a hand-made checkpoint) are a clear error, not a TypeError', () => {
  for (const bad of [undefined, null, {}, { mean: [0] }, { mean: '0', std: '1' }]) {
    assert.throws(() => validateStats(bad as unknown as ChannelStats, 1), (e: Error) => !(e instanceof TypeError) && /normalisation stats/.test(e.message));
  }
  assert.throws(() => validateStats({ mean: [0], std: ['1' as unknown as number] }, 1), /positive standard deviations/);
  assert.deepEqual(validateStats({ mean: [0.5], std: [2] }, 1), { mean: [0.5], std: [2] });
});
