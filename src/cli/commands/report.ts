/**
 * `goten report metrics.jsonl [more.jsonl …] --out run.html [--title text]`
 *
 * The training report page (src/report/html.ts) from metrics logs written by `goten train --log`; several
 * logs draw overlaid curves (e.g. the same model in plain, quantized and secure mode).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { reportHtml } from '../../report/html.js';
import { parseMetricsLog } from '../../report/metrics.js';
import { writeAtomic } from '../../report/recorder.js';

export function register(program: Command): void {
  program
    .command('report')
    .description('build the self-contained HTML training report from metrics logs (goten train --log); several logs overlay')
    .argument('<logs...>', 'metrics logs (JSON lines)')
    .requiredOption('--out <file>', 'the HTML page to write')
    .option('--title <text>', 'page title')
    .action((logs: string[], f: { out: string; title?: string }) => {
      const runs = logs.map((p) => parseMetricsLog(readFileSync(p, 'utf8'), basename(p)));
      // two runs with the same label (same model and mode) are told apart by their file names
      const labels = runs.map((r) => r.run.label);
      runs.forEach((r, i) => {
        if (labels.indexOf(r.run.label) !== i || labels.lastIndexOf(r.run.label) !== i) r.run.label = `${r.run.label} (${basename(logs[i])})`;
      });
      const title = f.title ?? `goten training report: ${runs.map((r) => r.run.label).join(' vs ')}`;
      writeAtomic(f.out, reportHtml(runs, { title }));
      const n = runs.reduce((a, r) => a + r.intervals.length + r.epochs.length, 0);
      process.stderr.write(`wrote ${f.out}: ${runs.length} run${runs.length === 1 ? '' : 's'}, ${n} records\n`);
    });
}
