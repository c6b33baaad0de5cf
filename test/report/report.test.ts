/**
 * The metrics log and the report page without a browser: one JSON line per interval (every 4 steps and
 * at each epoch's end) and per epoch with interval means that match the steps; a page that embeds its
 * data and uPlot, refers to nothing outside itself and escapes what it shows; `goten report` overlays logs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { reportHtml } from '../../src/report/html.js';
import { parseMetricsLog, type RunLog } from '../../src/report/metrics.js';
import { recordedRun, tempDir, TINY } from './helpers.js';
import { goten as runGoten } from '../cli.js';


describe('metrics log and report page', () => {
  let dir: string;
  let run: Awaited<ReturnType<typeof recordedRun>>;
  before(async () => {
    dir = tempDir();
    run = await recordedRun(dir, 'plain-a');
  });

  it('one line per interval and per epoch; interval means are the steps\' means', () => {
    const lines = readFileSync(run.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string } & Record<string, number>);
    assert.equal(lines[0].type, 'run');
    // 6 steps per epoch, --log-every 4: intervals end at steps 4, 6 | 8, 12 (epoch ends), then the epoch record
    assert.deepEqual(lines.slice(1).map((l) => `${l.type}@${l.step}`), ['interval@4', 'interval@6', 'epoch@6', 'interval@8', 'interval@12', 'epoch@12']);
    const first = lines[1];
    assert.equal(first.steps, 4);
    assert.equal(first.x, 4 / 6);
    const want = run.batchLosses.slice(0, 4).reduce((a, b) => a + b, 0) / 4; // equal batches of 16
    assert.ok(Math.abs(first.loss - want) < 1e-12, `${first.loss} vs ${want}`);
    assert.ok(first.imagesPerSecond > 0 && first.lr > 0 && first.accuracy >= 0 && first.accuracy <= 1);
    assert.equal(lines[3].x, 1);
    assert.ok('testAccuracy' in lines[3] && !('secure' in lines[3]));
    const parsed = parseMetricsLog(readFileSync(run.log, 'utf8'), 'x');
    assert.equal(parsed.intervals.length, 4);
    assert.equal(parsed.epochs.length, 2);
    assert.throws(() => parseMetricsLog('{"type":"run"}\nnot json\n', 'bad.jsonl'), /bad\.jsonl:2: not a JSON line/);
  });

  it('the page is self-contained: uPlot inlined, data embedded, no outside reference, text escaped', () => {
    const html = readFileSync(run.html, 'utf8');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.ok(html.includes('uPlot'), 'uPlot inlined');
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?(https?:)?\/\//i);
    const data = JSON.parse(/<script type="application\/json" id="report-data">([^]*?)<\/script>/.exec(html)![1]) as { runs: RunLog[] };
    assert.equal(data.runs[0].epochs.length, 2);
    const evil: RunLog = { run: { type: 'run', version: 1, label: '</script><img src=x>', startedAt: '', settings: { '<b>': '</script>' } }, intervals: [], epochs: [] };
    const page = reportHtml([evil], { title: '<title>' });
    assert.ok(!page.includes('</script><img'), 'labels cannot end the data script');
    assert.ok(page.includes('&lt;title&gt;'));
  });

  it('goten train --log --report writes both; goten report overlays several logs', () => {
    const goten = (...args: string[]) => runGoten(args);
    const log = join(dir, 'cli.jsonl');
    const page = join(dir, 'cli.html');
    const t = goten('train', '--model', TINY, '--data', 'synthetic:1x8x8:3', '--limit-train', '64', '--limit-test', '16', '--batch', '16', '--epochs', '1',
      '--backend', 'js', '--log', log, '--report', page, '--log-every', '3');
    assert.equal(t.status, 0, t.stderr);
    const cli = parseMetricsLog(readFileSync(log, 'utf8'), 'cli.jsonl');
    assert.equal(cli.run.label, 'tiny plain');
    assert.equal(cli.run.settings.batch, 16);
    assert.deepEqual(cli.intervals.map((i) => i.step), [3, 4]);
    assert.equal(cli.epochs.length, 1);
    assert.match(readFileSync(page, 'utf8'), /<title>goten training report: tiny plain<\/title>/);
    const out = join(dir, 'both.html');
    const r = goten('report', run.log, log, '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote .*both\.html: 2 runs, 9 records/);
    const data = JSON.parse(/id="report-data">([^]*?)<\/script>/.exec(readFileSync(out, 'utf8'))![1]) as { runs: RunLog[] };
    assert.deepEqual(data.runs.map((x) => x.run.label), ['plain-a', 'tiny plain']);
  });
});
