/**
 * goten predict on a tiny synthetic checkpoint: plain accuracy, the CLI's JSON/--classes output, and the
 * secure forward pass (three worker processes) giving exactly the quantized reference's classes.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runPredict } from '../../src/cli/commands/predict.js';
import { DATA, tempDir, tinyCheckpoint } from './helpers.js';
import { goten } from '../cli.js';

const flags = (ck: string, mode: string, extra: Record<string, unknown> = {}) => ({
  modelFile: ck, mode, topology: 'single' as const, batch: 16, classes: true, json: true, backend: 'js', ...extra,
});

describe('goten predict', () => {
  let ck: string;
  before(async () => {
    ck = await tinyCheckpoint(tempDir());
  });

  it('plain: accuracy on the checkpoint data test split, BN in inference mode', async () => {
    const r = await runPredict(flags(ck, 'plain', { limit: 48 }));
    assert.equal(r.count, 48);
    assert.equal(r.data, DATA);
    assert.equal(r.classes?.length, 48);
    assert.ok(r.accuracy > 0.6, `accuracy ${r.accuracy}`);
    assert.equal(r.correct, r.classes!.filter((c, i) => c === r.labels![i]).length);
  });

  it('the CLI prints one line per example with --classes; shape mismatches are refused', async () => {
    const c = goten(['predict', '--model-file', ck, '--backend', 'js', '--classes', '--limit', '5']);
    assert.equal(c.status, 0, c.stderr);
    const lines = c.stdout.trim().split('\n');
    assert.equal(lines.length, 5);
    lines.forEach((l, i) => assert.match(l, new RegExp(`^${i} [0-2] [0-2]$`)));
    assert.match(c.stderr, /accuracy \d+\.\d\d% \(\d+\/5\)/);
    await assert.rejects(runPredict(flags(ck, 'plain', { data: 'synthetic:3x8x8:3' })), /takes 1×8×8 inputs, data synthetic:3x8x8:3 has 3×8×8/);
  });

  it('secure (3 worker processes) gives exactly the quantized reference classes', async () => {
    const q = await runPredict(flags(ck, 'quantized', { limit: 24 }));
    const s = await runPredict(flags(ck, 'secure', { limit: 24 }));
    assert.equal(s.mode, 'secure');
    assert.deepEqual(s.classes, q.classes);
    assert.equal(s.overflows, q.overflows);
    assert.ok(s.accuracy > 0.6, `accuracy ${s.accuracy}`);
  });
});
