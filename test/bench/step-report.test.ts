/**
 * The human tables of `goten bench step` (bench/step-report.ts) on made-up results: the speed-up and the
 * non-linear CPU of each mode against pure-enclave's, and the note on why a secure mode's non-linear
 * layers cost more, printed only when a secure mode is beside pure-enclave.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printStepTables } from '../../bench/step-report.js';
import type { StepResult } from '../../bench/step-result.js';

function result(mode: StepResult['mode'], busy: number, nonLinear: number, secure: boolean): StepResult {
  const span = (cpuMs: number) => ({ wallMs: cpuMs, cpuMs });
  return {
    bench: 'step', mode, model: 'vgg11', batch: 32, steps: 3, transport: secure ? 'tcp' : null, kernels: null, blas: null,
    wallMs: busy, enclaveBusyMs: busy, enclaveUserMs: busy, enclaveSysMs: 0, wallMsPerStep: [busy], enclaveBusyMsPerStep: [busy],
    linear: span(busy - nonLinear), nonLinear: span(nonLinear), workers: [],
    bytes: secure ? [{ party: 'w0', sent: 1, received: 0, formulaSent: 1, formulaReceived: 0 }] : [],
    rounds: 1, pinned: null, protocol: secure ? 'lean' : null, elementsMoved: secure ? 1 : 0, nsPerElement: secure ? 1 : null,
    enclaveBoundImagesPerHour: 1, overflows: 0, ops: 1, localBelow: null, verifyMs: null, verify: null, offline: null, layers: [],
  };
}

/** stdout of printStepTables. */
function printed(results: StepResult[]): string {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
  try {
    printStepTables(results, false);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

describe('bench step tables', () => {
  it('set each mode beside pure-enclave: total CPU speed-up and non-linear CPU ratio', () => {
    const out = printed([result('pure-enclave', 360, 18, false), result('secure-online', 120, 27, true)]);
    const row = out.split('\n').find((l) => l.startsWith('secure-online') && l.includes('×'));
    assert.ok(row, out);
    assert.match(row, /3\.00×\s+1\.50×\s*$/);
    assert.match(out, /runs after waiting for the workers/);
  });

  it('print no note without a secure mode, and no ratios without pure-enclave', () => {
    assert.doesNotMatch(printed([result('pure-enclave', 360, 18, false), result('quantized', 400, 18, false)]), /waiting for the workers/);
    const alone = printed([result('secure-online', 120, 27, true)]);
    assert.doesNotMatch(alone, /waiting for the workers/);
    assert.doesNotMatch(alone, /×/);
  });
});
