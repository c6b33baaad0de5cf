import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeParameter } from '../../src/nn/layers/layer.js';
import { Adam, type OptimizerState, SGD } from '../../src/nn/optim.js';

test('optimizer setState: a missing or malformed state (e.g. a checkpoint without optimizer state) is a clear RangeError', () => {
  const params = [makeParameter('w', [3], true)];
  for (const opt of [new SGD(params, { lr: 0.1, momentum: 0.9 }), new Adam(params, { lr: 0.1 })]) {
    for (const bad of [null, undefined, {}, { tensors: {} }, { scalars: { step: 1 } }]) {
      assert.throws(() => opt.setState(bad as unknown as OptimizerState), (e: Error) => e instanceof RangeError && /optimizer state/.test(e.message));
    }
    const st = opt.getState();
    opt.setState(st);
    assert.equal(opt.steps, 0);
  }
});
