/**
 * `goten train --log metrics.jsonl --report run.html [--log-every n]`: the options and the recorder they
 * set up, kept here so the train command only registers them and forwards its step/epoch callbacks.
 */
import { type Command, Option } from 'commander';
import type { LinearExecutor } from '../nn/executor.js';
import { RunRecorder } from './recorder.js';
import type { RunRecord } from './metrics.js';

export interface ReportFlags {
  log?: string;
  report?: string;
  logEvery: number;
}

export function addReportOptions(cmd: Command, int: (name: string) => (v: string) => number): Command {
  return cmd
    .option('--log <file>', 'write a metrics log: one JSON line per step interval and per epoch (docs/report.md)')
    .option('--report <file>', 'write a self-contained HTML report with the curves, rewritten after every epoch')
    .addOption(new Option('--log-every <n>', 'steps per interval of the metrics log and report').argParser(int('--log-every')).default(10));
}

/** A recorder when --log or --report is given (null otherwise). */
export async function startRecorder(
  f: ReportFlags,
  run: { label: string; settings: RunRecord['settings']; executor: LinearExecutor; topology: string },
): Promise<RunRecorder | null> {
  if (f.log === undefined && f.report === undefined) return null;
  const r = new RunRecorder({
    label: run.label,
    settings: run.settings,
    logPath: f.log,
    reportPath: f.report,
    every: f.logEvery,
    executor: run.executor,
    // in the replicated topology this enclave does not feed every worker, so it cannot ask them
    askWorkers: run.topology === 'single',
  });
  await r.begin();
  return r;
}
