/**
 * The divergence guard: watches the training loss step by step and says when a
 * run has diverged, so that it can stop with a clear message instead of
 * spending hours producing a useless model.
 *
 * Three signs, checked on every step:
 *   - a non-finite loss (NaN or ±Infinity): stop at once;
 *   - one batch's loss explodes: loss > explode · (best + ln(classes)) (default 100×,
 *     far beyond any bad batch of a working model): stop at once, since with few
 *     steps per epoch the next sign could come too late;
 *   - the smoothed loss stays far above its best: for `patience` consecutive
 *     steps, ema > ratio · best + ln(classes), where ema is an exponential moving
 *     average of the per-batch loss (over ≥ 20 steps and ≈ 1000 images) and best its lowest value so far.
 * The smoothing absorbs the noise of small batches; the ln(classes) margin (the
 * loss of a uniform guess) keeps a run whose loss is already near 0 from being
 * stopped by an ordinary bad batch; requiring the excess to last `patience`
 * steps lets the first, noisy steps and a single spike pass. A run that stays
 * above the line has lost more than a uniform guess costs, relative to what it
 * had reached: it does not recover on its own.
 *
 * The guard's state is not part of checkpoints: after a resume it starts again
 * from the next loss (it can only be slower to fire, never change the weights).
 */
export interface DivergenceOptions {
  /** Number of classes (sets the ln K margin). */
  numClasses: number;
  /** Images per step: sets the default window. */
  batchSize?: number;
  /**
   * Smoothing window in steps (EMA factor 1 − 1/window). Default: max(20, 1024 / batchSize), so the
   * average always spans about a thousand images and small batches' noise cannot cross the line.
   */
  window?: number;
  /** Consecutive steps above the line before the run is stopped; default 20. */
  patience?: number;
  /** Multiple of the best smoothed loss in the line; default 2. */
  ratio?: number;
  /** Multiple of (best + ln classes) that a single batch's loss must exceed to stop at once; default 100. */
  explode?: number;
}

export interface DivergenceVerdict {
  reason: 'non-finite' | 'loss-exploded' | 'loss-high';
  /** 1-based global step whose loss showed it. */
  step: number;
  /** That step's loss. */
  loss: number;
  /** Smoothed loss (NaN unless loss-high), its best so far, and the line the loss crossed (NaN for non-finite). */
  smoothed: number;
  best: number;
  limit: number;
  /** Steps the smoothed loss stayed above the line. */
  steps: number;
}

export class DivergenceGuard {
  private readonly beta: number;
  private readonly patience: number;
  private readonly ratio: number;
  private readonly margin: number;
  private readonly explode: number;
  private ema = NaN;
  private best = Infinity;
  private above = 0;

  constructor(o: DivergenceOptions) {
    const window = o.window ?? Math.max(20, Math.ceil(1024 / (o.batchSize ?? 64)));
    if (!(Number.isInteger(o.numClasses) && o.numClasses >= 2)) throw new RangeError(`divergence guard: numClasses must be an integer ≥ 2, got ${o.numClasses}`);
    if (!(window >= 1)) throw new RangeError(`divergence guard: window must be ≥ 1, got ${window}`);
    this.beta = 1 - 1 / window;
    this.patience = o.patience ?? 20;
    if (!(Number.isInteger(this.patience) && this.patience >= 1)) throw new RangeError(`divergence guard: patience must be an integer ≥ 1`);
    this.ratio = o.ratio ?? 2;
    if (!(this.ratio >= 1)) throw new RangeError(`divergence guard: ratio must be ≥ 1, got ${this.ratio}`);
    this.margin = Math.log(o.numClasses);
    this.explode = o.explode ?? 100;
    if (!(this.explode > 1)) throw new RangeError(`divergence guard: explode must be > 1, got ${this.explode}`);
  }

  /** True while the smoothed loss is above the line: a checkpoint written now may hold a diverging model. */
  get alarmed(): boolean {
    return this.above > 0;
  }

  /** Feeds one step's loss; returns a verdict once the run has diverged (and on every later call). */
  observe(step: number, loss: number): DivergenceVerdict | null {
    if (!Number.isFinite(loss)) {
      this.above = Math.max(this.above, 1);
      return { reason: 'non-finite', step, loss, smoothed: NaN, best: this.best, limit: NaN, steps: 0 };
    }
    // the first loss is the reference: nothing to compare it with
    const jump = this.explode * (this.best + this.margin);
    if (loss > jump) {
      this.above = Math.max(this.above, 1);
      return { reason: 'loss-exploded', step, loss, smoothed: NaN, best: this.best, limit: jump, steps: 0 };
    }
    this.ema = Number.isNaN(this.ema) ? loss : this.beta * this.ema + (1 - this.beta) * loss;
    this.best = Math.min(this.best, this.ema);
    const limit = this.ratio * this.best + this.margin;
    this.above = this.ema > limit ? this.above + 1 : 0;
    if (this.above < this.patience) return null;
    return { reason: 'loss-high', step, loss, smoothed: this.ema, best: this.best, limit, steps: this.above };
  }
}

/** Thrown by the trainer when its guard says the run diverged; carries where it happened. */
export class DivergenceError extends Error {
  constructor(
    readonly verdict: DivergenceVerdict,
    /** 1-based epoch, batch within it, and the learning rate of that step. */
    readonly at: { epoch: number; batch: number; batchesPerEpoch: number; lr: number },
  ) {
    super(describeDivergence(verdict, at));
    this.name = 'DivergenceError';
  }
}

const fmt = (x: number): string => (Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toFixed(3));

/** "training diverged at step 37 (epoch 1, batch 37/64, lr 0.05): …" */
export function describeDivergence(v: DivergenceVerdict, at: DivergenceError['at']): string {
  const where = `training diverged at step ${v.step} (epoch ${at.epoch}, batch ${at.batch}/${at.batchesPerEpoch}, lr ${+at.lr.toPrecision(4)})`;
  if (v.reason === 'non-finite') return `${where}: the loss is ${v.loss}`;
  if (v.reason === 'loss-exploded') return `${where}: the loss jumped to ${fmt(v.loss)} (its best so far: ${fmt(v.best)})`;
  return (
    `${where}: the smoothed loss stayed far above its best (${fmt(v.best)}) for ${v.steps} steps: ` +
    `it is ${fmt(v.smoothed)}, over the line at ${fmt(v.limit)}`
  );
}

/**
 * A learning rate to try after a divergence at `lr`: the model's recipe rate when
 * the run used more than it, else about a quarter of `lr` rounded down to 1, 2 or 5
 * times a power of ten.
 */
export function suggestLr(lr: number, recipeLr?: number): number {
  if (recipeLr !== undefined && recipeLr < lr) return recipeLr;
  const target = lr / 4;
  const p = 10 ** Math.floor(Math.log10(target));
  const m = [5, 2, 1].find((k) => k * p <= target * (1 + 1e-9)) ?? 1;
  return +(m * p).toPrecision(1);
}
