/**
 * The report pages in headless Chromium (scripts/check-report.ts): they render without errors, every chart
 * has data and painted pixels, and the browser requests nothing but the page itself. Skipped, saying
 * why, where Debian's chromium is not installed (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeBenchReport } from '../../src/report/bench-report.js';
import { CHROMIUM, checkReport, problems } from '../../scripts/check-report.js';
import { recordedRun, tempDir } from './helpers.js';

const skip = CHROMIUM ? false : 'chromium is not installed (apt-get install chromium): the report pages are not checked in a browser';

describe('report pages in headless Chromium', { skip }, () => {
  it('the training report of a run: curves with data, nothing fetched', async () => {
    const dir = tempDir();
    const { html } = await recordedRun(dir, 'run');
    const c = await checkReport(html);
    assert.deepEqual(problems(c, html), []);
    assert.deepEqual(c.charts.map((ch) => ch.title.split(' ')[0]), ['Loss', 'Accuracy', 'Learning', 'Throughput', 'Overflows']);
    assert.equal(c.charts[0].points, 4 + 2 + 2); // interval losses, epoch losses, test losses
    assert.equal(c.requests.length, 1);
  });

  it('the bench step page: stacked per-layer bars', async () => {
    const page = join(tempDir(), 'bench.html');
    const span = (ms: number) => ({ wallMs: ms, cpuMs: ms });
    const layers = ['conv1', 'relu1', 'fc'].map((layer, i) => ({ layer, type: layer.replace(/\d/, ''), fwdLinear: span(i + 1), fwdNonLinear: span(0.5), bwdLinear: span(2 * i), bwdNonLinear: span(0.2) }));
    const result = { mode: 'quantized', model: 'tiny', batch: 8, steps: 2, wallMs: 10, enclaveBusyMs: 9, linear: span(6), nonLinear: span(3), bytes: [], overflows: 0, layers };
    writeBenchReport(page, [result, { ...result, mode: 'pure-enclave' }]);
    const c = await checkReport(page);
    assert.deepEqual(problems(c, page), []);
    assert.deepEqual(c.charts.map((ch) => [ch.title, ch.points]), [['quantized: tiny, batch 8', 12], ['pure-enclave: tiny, batch 8', 12]]);
  });
});
