/**
 * The metrics log of a training run (`goten train --log metrics.jsonl`): one JSON object per line.
 *
 *   {"type":"run", "version":1, "label", "startedAt", "settings":{…}}        first line: what the run is
 *   {"type":"interval", "epoch", "step", "x", "steps", "loss", "accuracy", "lr", "imagesPerSecond",
 *    "overflows", "seconds", "secure"?}                                        every --log-every steps
 *   {"type":"epoch", "epoch", "step", "x", "loss", "trainAccuracy", "testAccuracy", "testLoss", "lr",
 *    "imagesPerSecond", "overflows", "seconds", "evalSeconds", "secure"?}   after every epoch
 *
 * `x` is the position in epochs (1.5 = half-way through epoch 2), the common axis of every chart, so runs
 * with other batch sizes overlay. Interval loss and accuracy are the means over the interval's images.
 * `secure` (secure mode): per worker the frame bytes sent to it and received from it and, where the
 * workers report it, their busy time; and the enclave's process CPU time, all over the interval or epoch.
 * Only aggregates are logged: no tensor, input, label or key ever reaches the log.
 */
export interface WorkerTraffic {
  party: string;
  sentBytes: number;
  receivedBytes: number;
  /** Time the worker spent computing its products (ms), when it reports it. */
  busyMs?: number;
}

export interface SecureStats {
  workers: WorkerTraffic[];
  /** This process's (the enclave's) CPU time, user + system (ms). */
  enclaveCpuMs: number;
  wallMs: number;
}

export interface RunRecord {
  type: 'run';
  version: 1;
  label: string;
  startedAt: string;
  settings: Record<string, string | number | boolean | null>;
}

export interface IntervalRecord {
  type: 'interval';
  epoch: number;
  step: number;
  x: number;
  /** Steps in this interval. */
  steps: number;
  loss: number;
  accuracy: number;
  lr: number;
  imagesPerSecond: number;
  overflows: number;
  seconds: number;
  secure?: SecureStats;
}

export interface EpochRecord {
  type: 'epoch';
  epoch: number;
  step: number;
  x: number;
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
  testLoss: number;
  lr: number;
  imagesPerSecond: number;
  overflows: number;
  seconds: number;
  evalSeconds: number;
  secure?: SecureStats;
}

export type MetricsRecord = RunRecord | IntervalRecord | EpochRecord;

/** One run as the report draws it. */
export interface RunLog {
  run: RunRecord;
  intervals: IntervalRecord[];
  epochs: EpochRecord[];
}

/** Parses a metrics log; a log without its run line gets a label from `name`. Bad lines name their number. */
export function parseMetricsLog(text: string, name: string): RunLog {
  const log: RunLog = { run: { type: 'run', version: 1, label: name, startedAt: '', settings: {} }, intervals: [], epochs: [] };
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: MetricsRecord;
    try {
      r = JSON.parse(line) as MetricsRecord;
    } catch {
      throw new Error(`${name}:${i + 1}: not a JSON line`);
    }
    if (r.type === 'run') log.run = r;
    else if (r.type === 'interval') log.intervals.push(r);
    else if (r.type === 'epoch') log.epochs.push(r);
    else throw new Error(`${name}:${i + 1}: unknown record type ${JSON.stringify((r as { type?: unknown }).type)}`);
  });
  return log;
}
