/**
 * `goten bench step --local-below`: ops below the size limit are computed in the enclave, the workers
 * compute the others, and the measured bytes still equal the traffic formula (which counts outsourced
 * ops only) up to the frame headers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nativeAvailability } from '../../src/backend/native/native-backend.js';
import { goten, jsonLines } from '../cli.js';

interface StepJson {
  ops: number;
  localBelow: number | null;
  blas: string | null;
  workers: { ops: number }[];
  bytes: { sent: number; received: number; formulaSent: number; formulaReceived: number }[];
}

function secureOnline(localBelow: number): StepJson {
  const args = ['bench', 'step', '--model', 'mnist-cnn', '--batch', '8', '--modes', 'secure-online', '--steps', '1', '--warmup', '1', '--no-pin', '--json'];
  const r = goten([...args, '--local-below', String(localBelow)], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return jsonLines(r.stdout).pop() as unknown as StepJson;
}

function formulaBytes(s: StepJson): number {
  return s.bytes.reduce((t, b) => t + b.formulaSent + b.formulaReceived, 0);
}

describe('bench step with ops kept in the enclave', () => {
  it('the workers compute fewer ops, and the bytes match the formula of the outsourced ones', () => {
    const all = secureOnline(0);
    // mnist-cnn at batch 8: the last linear layer (128 → 10) is below 200 000, the others above
    const local = secureOnline(200_000);
    assert.equal(local.ops, all.ops, 'the executor runs every op either way');
    assert.deepEqual([all.localBelow, local.localBelow], [0, 200_000], 'the JSON names the limit');
    assert.equal(all.blas, nativeAvailability().blas ?? null, "the JSON names the addon's GEMM (pure-enclave's speed depends on it)");
    for (const w of all.workers) assert.equal(w.ops, all.ops, 'without a limit every op is outsourced');
    for (const w of local.workers) assert.equal(w.ops, all.ops - 3, 'one layer (forward, input and weight gradient) stays in the enclave');
    assert.ok(formulaBytes(local) < formulaBytes(all), 'the local layer sends nothing');
    for (const s of [all, local]) {
      for (const b of s.bytes) {
        const headers = b.sent + b.received - b.formulaSent - b.formulaReceived;
        assert.ok(headers >= 0 && headers < 4096, `measured bytes are the formula's plus frame headers (${headers} bytes over)`);
      }
    }
  });

  it('refuses a negative or non-integer limit', () => {
    for (const bad of ['-1', '1.5', 'lots']) {
      const r = goten(['bench', 'step', '--model', 'mnist-cnn', '--modes', 'secure-online', '--local-below', bad], { timeoutMs: 60_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /--local-below/);
    }
  });
});
