/**
 * A secure run's metrics log (the recorder on a secure executor; in-process workers, the real codec):
 * each interval and epoch record carries the frame bytes sent to and received from each of the three
 * workers, the workers' busy time (asked between steps) and the enclave's CPU time; the page draws them
 * (checked in headless Chromium where it is installed). `goten train --mode secure --log` wires the same
 * recorder (test/train is not repeated here: launching worker processes would cost the suite seconds).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { inprocTransport } from '../../src/net/inproc.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { startLocalCluster } from '../../src/roles/local-cluster.js';
import { parseMetricsLog } from '../../src/report/metrics.js';
import { CHROMIUM, checkReport, problems } from '../../scripts/check-report.js';
import { recordedRun, tempDir } from './helpers.js';

test('secure training log: bytes per worker and the enclave/worker time split', async () => {
  const cluster = await startLocalCluster({ backend: createJsBackend(), topology: 'single', noiseKey: noiseKeyFromSeed(4), transport: inprocTransport('wire') });
  let html: string;
  let log: string;
  try {
    ({ html, log } = await recordedRun(tempDir(), 'secure', 0.05, cluster.executors[0]));
  } finally {
    await cluster.close();
  }
  const run = parseMetricsLog(readFileSync(log, 'utf8'), 'secure.jsonl');
  assert.deepEqual(run.intervals.map((i) => i.step), [4, 6, 8, 12]);
  for (const rec of [...run.intervals, ...run.epochs]) {
    const s = rec.secure!;
    assert.deepEqual(s.workers.map((w) => w.party), ['w0', 'w1', 'w2']);
    // which worker gets and returns what depends on the protocol (lean: results come back from w1 only);
    // every worker gets at least its op requests and computes, and results come back
    for (const w of s.workers) {
      assert.ok(w.sentBytes > 0, `${w.party} requests`);
      assert.ok((w.busyMs ?? 0) > 0, `${w.party} busy`);
    }
    assert.ok(s.workers.reduce((a, w) => a + w.receivedBytes, 0) > 1000, 'results');
    assert.ok(s.enclaveCpuMs > 0 && s.wallMs > 0);
  }
  // an epoch's traffic is its intervals' plus the evaluation's
  const total = (r: { secure?: { workers: { sentBytes: number }[] } }) => r.secure!.workers.reduce((a, w) => a + w.sentBytes, 0);
  const e1 = total(run.epochs[0]);
  const i1 = run.intervals.filter((i) => i.epoch === 1).reduce((a, i) => a + total(i), 0);
  assert.ok(e1 > i1, `${e1} > ${i1}`);
  if (CHROMIUM) {
    const c = await checkReport(html);
    assert.deepEqual(problems(c, html), []);
    assert.ok(c.charts.some((ch) => ch.title.startsWith('Traffic per step')) && c.charts.some((ch) => ch.title.startsWith('Time per step')));
  }
});
