/**
 * goten train --mode secure --log/--report: each interval and epoch record carries the frame bytes sent to
 * and received from each of the three workers, the workers' busy time and the enclave's CPU time; the
 * report page draws them (checked in headless Chromium where it is installed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseMetricsLog } from '../../src/report/metrics.js';
import { CHROMIUM, checkReport, problems } from '../../scripts/check-report.js';
import { gotenTrain, writeTinyConfig } from '../train/cli.js';
import { tempDir } from './helpers.js';

test('secure training log: bytes per worker and the enclave/worker time split', async () => {
  const dir = tempDir();
  const model = writeTinyConfig(dir, [{ type: 'conv', out: 4, kernel: 3, pad: 1 }, { type: 'relu' }, { type: 'linear', out: 'classes' }]);
  const log = join(dir, 'secure.jsonl');
  const html = join(dir, 'secure.html');
  const r = gotenTrain(['--model', model, '--data', 'synthetic:1x8x8:3', '--limit-train', '64', '--limit-test', '16', '--batch', '16', '--epochs', '1',
    '--mode', 'secure', '--backend', 'js', '--transport', 'tcp', '--log', log, '--report', html, '--log-every', '2']);
  assert.equal(r.code, 0, r.stderr);
  const run = parseMetricsLog(readFileSync(log, 'utf8'), 'secure.jsonl');
  assert.equal(run.run.settings.mode, 'secure');
  assert.deepEqual(run.intervals.map((i) => i.step), [2, 4]);
  for (const rec of [...run.intervals, ...run.epochs]) {
    const s = rec.secure!;
    assert.deepEqual(s.workers.map((w) => w.party), ['w0', 'w1', 'w2']);
    for (const w of s.workers) {
      assert.ok(w.receivedBytes > 0, `${w.party} results`);
      assert.ok((w.busyMs ?? 0) > 0, `${w.party} busy`);
    }
    // w0 gets E, F; w1 gets A1, B1, E, F; w2 only headers (it derives its part from the PRG)
    assert.ok(s.workers[1].sentBytes > s.workers[0].sentBytes && s.workers[0].sentBytes > 10 * s.workers[2].sentBytes);
    assert.ok(s.enclaveCpuMs > 0 && s.wallMs > 0);
  }
  if (CHROMIUM) {
    const c = await checkReport(html);
    assert.deepEqual(problems(c, html), []);
    assert.ok(c.charts.some((ch) => ch.title.startsWith('Traffic per step')) && c.charts.some((ch) => ch.title.startsWith('Time per step')));
  }
});
