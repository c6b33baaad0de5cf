/**
 * LinearExecutor's required members (src/nn/executor.ts) on every in-process executor and through the
 * DelegatingExecutor wrappers the benchmarks and reports install: checkpoint state round-trips (quantized),
 * is refused where it cannot be taken (plain), and the wrapper forwards it and the connections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { DelegatingExecutor } from '../../src/nn/executor.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';

const backend = createJsBackend();
const op = { layer: 'linear', pass: 'forward', geom: { batch: 2, inF: 3, outF: 2 } } as const;
const a = Float32Array.of(0.5, -0.25, 1, 0.75, 0.1, -1);
const b = Float32Array.of(1, 2, 3, -1, 0.5, 0.25);

describe('LinearExecutor required members', () => {
  it('quantized: the attempt counters round-trip through checkpointState, also through a wrapper', async () => {
    const q = new QuantizedExecutor({ backend, noiseKey: noiseKeyFromSeed(3) });
    await q.run(op, { layer: 'fc', index: 0 }, a, b, new Float32Array(4));
    await q.run(op, { layer: 'fc', index: 0 }, a, b, new Float32Array(4));
    const wrapped = new DelegatingExecutor(q);
    const saved = wrapped.checkpointState();
    assert.ok(saved && Object.values(saved.attempts).some((v) => v > 0), 'counters after two ops');
    const fresh = new DelegatingExecutor(new QuantizedExecutor({ backend, noiseKey: noiseKeyFromSeed(3) }));
    fresh.restoreCheckpointState(saved);
    assert.deepEqual(fresh.checkpointState(), saved);
    assert.deepEqual(wrapped.connections, []);
  });

  it('plain: carries nothing and refuses a quantized run\'s state with a clear error', () => {
    const p = new DelegatingExecutor(new PlainExecutor(backend));
    assert.equal(p.checkpointState(), undefined);
    assert.throws(() => p.restoreCheckpointState({ attempts: { 'fc/forward': 2 } }), /cannot take \(was it saved in another mode\?\)/);
    assert.deepEqual(p.connections, []);
  });

  it('quantized: a malformed executor state is refused', () => {
    const q = new QuantizedExecutor({ backend, noiseKey: noiseKeyFromSeed(3) });
    assert.throws(() => q.restoreCheckpointState({} as never), /cannot take/);
  });
});
