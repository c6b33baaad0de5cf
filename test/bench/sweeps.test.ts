/**
 * `goten bench sweeps` (bench/sweeps.ts): runs every sweep on this build and, with --against, on
 * another build in the same process, and says whether their results agree. Checked against a copy of
 * this very build (which must agree) and against a build whose output is corrupted by hand (a different
 * addon cannot be built here, so a proxy module that flips one output byte stands in for it).
 * Skipped without the native addon.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { nativeKernelsAvailability } from '../../src/protocol/enclave-kernels.js';
import { ROOT, goten, jsonLines } from '../cli.js';

const avail = nativeKernelsAvailability();
const skip = avail.available ? false : `native enclave kernels unavailable: ${avail.reason}`;
const addonPath = join(ROOT, 'native', 'build', 'Release', 'goten_native.node');

describe('goten bench sweeps', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-sweeps-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sweeps = (against: string) => {
    const r = goten(['bench', 'sweeps', '--elements', '40000', '--reps', '3', '--json', '--against', against]);
    assert.equal(r.status, 0, r.stderr);
    return jsonLines(r.stdout);
  };

  it('times the three sweeps on both builds and finds a copy of this build in agreement', () => {
    const rows = sweeps(addonPath);
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.equal(row.elements, 40000);
      assert.equal(row.sameResults, true, String(row.sweep));
      assert.ok(Number(row.nsPerElement) > 0 && Number(row.againstNsPerElement) > 0);
    }
  });

  it('says so when the other build computes something else', () => {
    // a CommonJS module standing in for another build: this addon with the reconstruction's output altered
    const proxy = join(dir, 'altered.cjs');
    writeFileSync(
      proxy,
      `const a = require(${JSON.stringify(addonPath)});\n` +
        'module.exports = { ...a, reconstructDequantize(parts, masks, e, out, c) { const m = a.reconstructDequantize(parts, masks, e, out, c); out[7] += 1; return m; } };\n',
    );
    const rows = sweeps(proxy);
    const bad = rows.filter((r) => r.sameResults === false).map((r) => String(r.sweep));
    assert.deepEqual(bad, [String(rows[2].sweep)]);
    assert.match(bad[0], /reconstruct/);
  });
});

describe('goten bench sweeps --idle', { skip }, () => {
  it('times every sweep after each idle time, in the order given', () => {
    const r = goten(['bench', 'sweeps', '--idle', '0,3', '--elements', '20000', '--reps', '3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const rows = jsonLines(r.stdout);
    assert.equal(rows.length, 6);
    assert.deepEqual(rows.map((x) => x.idleMs), [0, 3, 0, 3, 0, 3]);
    assert.equal(new Set(rows.map((x) => x.sweep)).size, 3);
    for (const row of rows) assert.ok(Number(row.ms) > 0 && Number(row.nsPerElement) > 0, JSON.stringify(row));
  });

  it('refuses a malformed list and --against beside it', () => {
    const bad = goten(['bench', 'sweeps', '--idle', '0,-5', '--elements', '1000']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--idle: expected comma-separated whole milliseconds/);
    const both = goten(['bench', 'sweeps', '--idle', '0', '--against', addonPath, '--elements', '1000']);
    assert.notEqual(both.status, 0);
    assert.match(both.stderr, /--idle and --against do not combine/);
  });
});
