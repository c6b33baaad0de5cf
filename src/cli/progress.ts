/**
 * Training progress on stderr: a cli-progress bar on a terminal (loss,
 * accuracy, images/s, ETA over the whole run), plain throttled lines
 * otherwise (CI logs, pipes). stdout is left alone for --json.
 */
import cliProgress from 'cli-progress';
import type { EpochMetrics, StepProgress } from '../nn/trainer.js';

export interface ProgressReporter {
  step(p: StepProgress): void;
  epoch(m: EpochMetrics): void;
  /** Releases the terminal (call on success and on error). */
  stop(): void;
}

export interface ProgressOptions {
  tty: boolean;
  stream?: NodeJS.WriteStream;
  totalEpochs: number;
  /** Seconds between plain progress lines (default 15); an epoch's end always prints. */
  lineInterval?: number;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** One line per finished epoch (both reporters print it). */
export function formatEpoch(m: EpochMetrics, total: number): string {
  const ovf = m.mode === 'plain' ? '' : `, ${m.overflows} overflows`;
  return (
    `epoch ${m.epoch}/${total}: loss ${m.loss.toFixed(4)}, train ${pct(m.trainAccuracy)}, test ${pct(m.testAccuracy)}, ` +
    `${Math.round(m.imagesPerSecond)} img/s, ${m.seconds.toFixed(1)} s (+${m.evalSeconds.toFixed(1)} s eval)${ovf}`
  );
}

export function createProgress(o: ProgressOptions): ProgressReporter {
  const stream = o.stream ?? process.stderr;
  return o.tty ? new BarReporter(stream, o.totalEpochs) : new LineReporter(stream, o.totalEpochs, o.lineInterval ?? 15);
}

class BarReporter implements ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number,
  ) {}

  step(p: StepProgress): void {
    const payload = {
      ep: `${p.epoch}/${this.total}`,
      loss: p.loss.toFixed(4),
      acc: pct(p.accuracy),
      ips: Math.round(p.imagesPerSecond),
    };
    const done = (p.epoch - 1) * p.batchesPerEpoch + p.batch;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: 'epoch {ep} [{bar}] {percentage}% | loss {loss} | acc {acc} | {ips} img/s | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.total * p.batchesPerEpoch, done - 1, payload);
    }
    this.bar.update(done, payload);
  }

  epoch(m: EpochMetrics): void {
    // print the summary above the bar: stop it, write, and let the next step restart it
    this.bar?.stop();
    this.bar = null;
    this.stream.write(formatEpoch(m, this.total) + '\n');
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

class LineReporter implements ProgressReporter {
  private last = performance.now();
  /** Epoch, time and batch of the first step seen in the current epoch (for the ETA). */
  private mark = { epoch: -1, t: 0, batch: 0 };

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number,
    private readonly interval: number,
  ) {}

  step(p: StepProgress): void {
    const now = performance.now();
    if (p.epoch !== this.mark.epoch) this.mark = { epoch: p.epoch, t: now, batch: p.batch };
    if (now - this.last < this.interval * 1000) return;
    this.last = now;
    const perBatch = p.batch > this.mark.batch ? (now - this.mark.t) / 1000 / (p.batch - this.mark.batch) : 0;
    const eta = perBatch * (p.batchesPerEpoch - p.batch);
    this.stream.write(
      `epoch ${p.epoch}/${this.total} batch ${p.batch}/${p.batchesPerEpoch}: loss ${p.loss.toFixed(4)}, ` +
        `acc ${pct(p.accuracy)}, ${Math.round(p.imagesPerSecond)} img/s, epoch ends in ${Math.round(eta)} s\n`,
    );
  }

  epoch(m: EpochMetrics): void {
    this.last = performance.now();
    this.stream.write(formatEpoch(m, this.total) + '\n');
  }

  stop(): void {}
}
