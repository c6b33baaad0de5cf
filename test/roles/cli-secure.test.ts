/**
 * The secure CLI paths end to end, every party a separate process:
 * `goten demo --json` (single topology, TLS) and `goten train --mode secure
 * --topology replicated` (two enclave replicas, TCP), on small MNIST subsets.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function goten(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function epochs(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('secure training from the command line', () => {
  it('goten demo --json: enclave + 3 worker processes over TLS', () => {
    const r = goten(['demo', '--json', '--limit-train', '384', '--limit-test', '128']);
    assert.equal(r.status, 0, r.stderr);
    const [e] = epochs(r.stdout);
    assert.equal(e.mode, 'secure');
    assert.equal(e.epoch, 1);
    for (const k of ['loss', 'trainAccuracy', 'testAccuracy', 'imagesPerSecond']) assert.equal(typeof e[k], 'number', k);
    assert.ok((e.testAccuracy as number) >= 0 && (e.testAccuracy as number) <= 1);
    assert.ok((e.loss as number) < 2.3, 'the loss fell below chance level');
    for (const w of ['w0', 'w1', 'w2']) assert.match(r.stderr, new RegExp(`${w}: session ended after \\d+ ops`), `${w} served and exited`);
  });

  it('goten train --mode secure --topology replicated: two enclave replicas stay in step', () => {
    const r = goten(['train', '--mode', 'secure', '--topology', 'replicated', '--transport', 'tcp', '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const [e] = epochs(r.stdout);
    assert.equal(e.mode, 'secure');
    assert.doesNotMatch(r.stderr, /diverged/);
    for (const w of ['w0', 'w1', 'w2']) assert.match(r.stderr, new RegExp(`${w}: session ended after \\d+ ops`));
  });
});
