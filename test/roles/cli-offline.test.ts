/**
 * `goten train --mode secure --workers 2`: offline mode from the command line,
 * every party a separate process — only workers w0 and w1 are started; the
 * enclave precomputes the mask products and reports the offline phase apart.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

describe('offline mode from the command line', () => {
  it('goten train --mode secure --workers 2: two worker processes, offline phase reported', () => {
    const args = ['train', '--mode', 'secure', '--workers', '2', '--transport', 'tcp', '--epochs', '1', '--limit-train', '192', '--limit-test', '64', '--json'];
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const [e] = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(e.mode, 'secure');
    assert.equal(typeof e.loss, 'number');
    for (const w of ['w0', 'w1']) assert.match(r.stderr, new RegExp(`${w}: session ended after \\d+ ops`));
    assert.doesNotMatch(r.stderr, /w2:/, 'worker 2 is neither started nor contacted');
    assert.match(r.stderr, /offline mode: \d+ mask products precomputed in offline phases \([\d.]+ s\), \d+ used, 11 computed on demand/);
  });
});
