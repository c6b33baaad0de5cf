/**
 * The secure CLI paths end to end, every party a separate process:
 * `goten demo --json` (single topology, TLS) and `goten train --mode secure
 * --topology replicated` (two enclave replicas, TCP), on small MNIST subsets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goten, jsonLines } from '../cli.js';

describe('secure training from the command line', () => {
  it('goten demo --json: enclave + 3 worker processes over TLS', () => {
    const r = goten(['demo', '--json', '--limit-train', '384', '--limit-test', '128']);
    assert.equal(r.status, 0, r.stderr);
    const [e] = jsonLines(r.stdout);
    assert.equal(e.mode, 'secure');
    assert.equal(e.epoch, 1);
    for (const k of ['loss', 'trainAccuracy', 'testAccuracy', 'imagesPerSecond']) assert.equal(typeof e[k], 'number', k);
    assert.ok((e.testAccuracy as number) >= 0 && (e.testAccuracy as number) <= 1);
    assert.ok((e.loss as number) < 2.3, 'the loss fell below chance level');
    // by default ops below 2^24 multiply-adds stay in the enclave (DEFAULT_LOCAL_BELOW); conv2 and fc1 are larger at batch 128
    for (const w of ['w0', 'w1', 'w2']) assert.match(r.stderr, new RegExp(`${w}: session ended after [1-9]\\d* ops`), `${w} served and exited`);
  });

  it('goten train --mode secure --topology replicated: two enclave replicas stay in step', () => {
    const r = goten(['train', '--mode', 'secure', '--topology', 'replicated', '--transport', 'tcp', '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const [e] = jsonLines(r.stdout);
    assert.equal(e.mode, 'secure');
    assert.doesNotMatch(r.stderr, /diverged/);
    for (const w of ['w0', 'w1', 'w2']) assert.match(r.stderr, new RegExp(`${w}: session ended after [1-9]\\d* ops`), 'the larger layers were outsourced');
  });
});
