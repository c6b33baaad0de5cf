/**
 * Records a training run for `goten train --log metrics.jsonl --report run.html`: averages the steps of
 * each interval (--log-every steps, and the end of every epoch), appends one JSON line per interval and
 * per epoch to the log (metrics.ts), and rewrites the HTML report after every epoch (html.ts). Files are
 * replaced by rename, so a reader never sees half a report. Nothing but aggregates is written.
 */
import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { LinearExecutor } from '../nn/executor.js';
import type { EpochMetrics, StepProgress } from '../nn/trainer.js';
import { reportHtml } from './html.js';
import type { EpochRecord, IntervalRecord, MetricsRecord, RunLog, RunRecord } from './metrics.js';
import { SecureProbe, type Snapshot, secureDelta } from './secure-probe.js';
import { removeAtExit, tempPathFor } from '../nn/temp-files.js';

export interface RecorderOptions {
  label: string;
  settings: RunRecord['settings'];
  logPath?: string;
  reportPath?: string;
  /** Steps per interval record. */
  every: number;
  executor: LinearExecutor;
  /** Secure mode: ask the workers for their busy time (only when this enclave feeds all of them). */
  askWorkers: boolean;
}

interface Acc {
  steps: number;
  images: number;
  lossSum: number;
  correct: number;
  t0: number;
  overflows0: number;
}

/** Writes `text` to `path` through a temporary file and a rename. */
export function writeAtomic(path: string, text: string): void {
  const tmp = tempPathFor(path);
  const forget = removeAtExit(tmp);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    forget();
  }
}

export class RunRecorder {
  readonly log: RunLog;
  readonly #o: RecorderOptions;
  readonly #probe: SecureProbe | null;
  #acc: Acc | null = null;
  #intervalMark: Snapshot | null = null;
  #epochMark: Snapshot | null = null;
  /** When the current interval began (the previous record, or begin()). */
  #t0 = performance.now();
  #overflows0 = 0;

  constructor(o: RecorderOptions) {
    this.#o = o;
    this.#probe = SecureProbe.of(o.executor, o.askWorkers);
    const run: RunRecord = { type: 'run', version: 1, label: o.label, startedAt: new Date().toISOString(), settings: o.settings };
    this.log = { run, intervals: [], epochs: [] };
    if (o.logPath) writeFileSync(o.logPath, JSON.stringify(run) + '\n');
  }

  /** Call before the first step (secure mode: the counters' starting point). */
  async begin(): Promise<void> {
    if (this.#probe) this.#intervalMark = this.#epochMark = await this.#probe.snapshot();
    this.#mark();
  }

  /** The next interval starts now (after any worker query, so its time is not counted). */
  #mark(): void {
    this.#t0 = performance.now();
    this.#overflows0 = this.#o.executor.stats().overflows;
  }

  #append(r: MetricsRecord): void {
    if (this.#o.logPath) appendFileSync(this.#o.logPath, JSON.stringify(r) + '\n');
  }

  async step(p: StepProgress): Promise<void> {
    const now = performance.now();
    const a = (this.#acc ??= { steps: 0, images: 0, lossSum: 0, correct: 0, t0: this.#t0, overflows0: this.#overflows0 });
    a.steps++;
    a.images += p.batchSize;
    a.lossSum += p.batchLoss * p.batchSize;
    a.correct += p.batchCorrect;
    if (p.step % this.#o.every !== 0 && p.batch !== p.batchesPerEpoch) return;
    const seconds = (now - a.t0) / 1000;
    const r: IntervalRecord = {
      type: 'interval',
      epoch: p.epoch,
      step: p.step,
      x: p.epoch - 1 + p.batch / p.batchesPerEpoch,
      steps: a.steps,
      loss: a.lossSum / a.images,
      accuracy: a.correct / a.images,
      lr: p.lr,
      imagesPerSecond: seconds > 0 ? a.images / seconds : 0,
      overflows: this.#o.executor.stats().overflows - a.overflows0,
      seconds,
    };
    if (this.#probe && this.#intervalMark) {
      const s = await this.#probe.snapshot();
      r.secure = secureDelta(this.#intervalMark, s);
      this.#intervalMark = s;
    }
    this.#acc = null;
    this.#mark();
    this.log.intervals.push(r);
    this.#append(r);
  }

  async epoch(m: EpochMetrics): Promise<void> {
    const r: EpochRecord = {
      type: 'epoch',
      epoch: m.epoch,
      step: m.step,
      x: m.epoch,
      loss: m.loss,
      trainAccuracy: m.trainAccuracy,
      testAccuracy: m.testAccuracy,
      testLoss: m.testLoss,
      lr: m.lr,
      imagesPerSecond: m.imagesPerSecond,
      overflows: m.overflows,
      seconds: m.seconds,
      evalSeconds: m.evalSeconds,
    };
    if (this.#probe && this.#epochMark) {
      const s = await this.#probe.snapshot();
      r.secure = secureDelta(this.#epochMark, s);
      // evaluation traffic belongs to the epoch, not to the next interval
      this.#epochMark = this.#intervalMark = s;
    }
    this.#acc = null;
    this.#mark();
    this.log.epochs.push(r);
    this.#append(r);
    this.writeReport();
  }

  writeReport(): void {
    if (this.#o.reportPath) writeAtomic(this.#o.reportPath, reportHtml([this.log], { title: `goten training report: ${this.log.run.label}` }));
  }
}
