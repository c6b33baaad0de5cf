/**
 * `goten train --mode secure --workers 2`: offline mode from the command line,
 * every party a separate process — only workers w0 and w1 are started; the
 * enclave precomputes the mask products and reports the offline phase apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goten, jsonLines } from '../cli.js';

describe('offline mode from the command line', () => {
  it('goten train --mode secure --workers 2: two worker processes, offline phase reported', () => {
    const args = ['train', '--mode', 'secure', '--local-below', '0', '--workers', '2', '--transport', 'tcp', '--epochs', '1', '--limit-train', '192', '--limit-test', '64', '--json'];
    const r = goten(args, { timeoutMs: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const [e] = jsonLines(r.stdout);
    assert.equal(e.mode, 'secure');
    assert.equal(typeof e.loss, 'number');
    for (const w of ['w0', 'w1']) assert.match(r.stderr, new RegExp(`${w}: session ended after \\d+ ops`));
    assert.doesNotMatch(r.stderr, /w2:/, 'worker 2 is neither started nor contacted');
    assert.match(r.stderr, /offline mode: \d+ mask products precomputed in offline phases \([\d.]+ s\), \d+ used, 11 computed on demand/);
  });
});
