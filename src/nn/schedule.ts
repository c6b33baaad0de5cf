/**
 * Learning-rate schedules, evaluated per step:  lr = lrAt(epoch, stepInEpoch, stepsPerEpoch)
 * with 0-based epoch and step, and t = epoch + stepInEpoch / stepsPerEpoch (fractional epochs).
 *
 *   constant  lr = η
 *   step      lr = η · γ^floor(epoch / every)                    (PyTorch StepLR, per epoch)
 *   cosine    lr = η_min + (η − η_min) · (1 + cos(π · t / T)) / 2 (per step, T = total epochs)
 * Any schedule may add a linear warm-up over the first W epochs, lr · min(1, (t + 1/stepsPerEpoch) / W),
 * or over the first N steps, lr · min(1, (g + 1) / N) with g = epoch · stepsPerEpoch + stepInEpoch.
 * Both are functions of (epoch, step) alone, so a resumed run gets the same rates as an uninterrupted one.
 */
export interface LrSchedule {
  lrAt(epoch: number, stepInEpoch: number, stepsPerEpoch: number): number;
}

export interface ScheduleOptions {
  warmupEpochs?: number;
  /** Warm-up over a number of optimizer steps instead (deep nets whose first steps overshoot). */
  warmupSteps?: number;
}

function warm(lr: number, o: ScheduleOptions, epoch: number, step: number, steps: number): number {
  const n = o.warmupSteps ?? 0;
  if (n > 0) {
    const g = epoch * steps + step + 1; // 1-based global step: the first step already moves
    return g >= n ? lr : (lr * g) / n;
  }
  const w = o.warmupEpochs ?? 0;
  if (w <= 0) return lr;
  const t = epoch + (step + 1) / steps;
  return t >= w ? lr : (lr * t) / w;
}

/** A linear warm-up: none, over `epochs` (fractions allowed) or over `steps` optimizer steps. */
export type Warmup = { epochs: number } | { steps: number } | null;

/**
 * Parses a warm-up as the command line and model recipes write it: `0` or `none` (off),
 * `<epochs>` (`1`, `0.5`) or `<n>steps` (`200steps`).
 */
export function parseWarmup(text: string | number): Warmup {
  const s = String(text).trim();
  if (s === 'none' || s === 'off') return null;
  const steps = /^(\d+)\s*steps?$/.exec(s);
  if (steps) return Number(steps[1]) === 0 ? null : { steps: Number(steps[1]) };
  const e = Number(s);
  if (s !== '' && Number.isFinite(e) && e >= 0) return e === 0 ? null : { epochs: e };
  throw new RangeError(`warm-up '${text}': expected 0, a number of epochs (1, 0.5) or <n>steps (200steps)`);
}

/** The canonical text of a warm-up (what checkpoints and the run's header record): `0`, `1`, `200steps`. */
export function formatWarmup(w: Warmup): string {
  if (w === null) return '0';
  return 'steps' in w ? `${w.steps}steps` : String(w.epochs);
}

/** A schedule spec with a warm-up appended (`cosine` + 1 epoch → `cosine,warmup:1`). */
export function withWarmup(spec: string, w: Warmup): string {
  if (w === null) return spec;
  return 'steps' in w ? `${spec},warmup-steps:${w.steps}` : `${spec},warmup:${w.epochs}`;
}

/** Whether a schedule spec already carries its own warm-up option. */
export function hasWarmup(spec: string): boolean {
  return spec.split(',').slice(1).some((x) => /^warmup(-steps)?:/.test(x.trim()));
}

export function constantLr(lr: number, o: ScheduleOptions = {}): LrSchedule {
  return { lrAt: (e, s, n) => warm(lr, o, e, s, n) };
}

export function stepLr(lr: number, everyEpochs: number, gamma: number, o: ScheduleOptions = {}): LrSchedule {
  if (!(everyEpochs >= 1)) throw new RangeError(`step schedule: period must be ≥ 1 epoch, got ${everyEpochs}`);
  return { lrAt: (e, s, n) => warm(lr * gamma ** Math.floor(e / everyEpochs), o, e, s, n) };
}

export function cosineLr(lr: number, totalEpochs: number, minLr = 0, o: ScheduleOptions = {}): LrSchedule {
  if (!(totalEpochs > 0)) throw new RangeError(`cosine schedule: total epochs must be > 0, got ${totalEpochs}`);
  return {
    lrAt: (e, s, n) => {
      const t = Math.min(e + s / n, totalEpochs);
      return warm(minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * t) / totalEpochs))) / 2, o, e, s, n);
    },
  };
}

/**
 * Parses a schedule spec: `constant`, `step:<every>:<gamma>` (e.g. `step:30:0.5`,
 * Goten's paper schedule) or `cosine[:<minLr>]`; optional `,warmup:<epochs>` or
 * `,warmup-steps:<n>` suffix.
 */
export function parseSchedule(spec: string, lr: number, totalEpochs: number): LrSchedule {
  const [main, ...extra] = spec.split(',');
  const o: ScheduleOptions = {};
  for (const x of extra) {
    const m = /^warmup:(\d+(?:\.\d+)?)$/.exec(x.trim());
    const n = /^warmup-steps:(\d+)$/.exec(x.trim());
    if (m !== null) o.warmupEpochs = Number(m[1]);
    else if (n !== null) o.warmupSteps = Number(n[1]);
    else throw new RangeError(`lr schedule: unknown option '${x}' (expected warmup:<epochs> or warmup-steps:<n>)`);
  }
  if (o.warmupEpochs !== undefined && o.warmupSteps !== undefined) {
    throw new RangeError(`lr schedule '${spec}': give the warm-up once (in epochs or in steps)`);
  }
  const parts = main.trim().split(':');
  const num = (v: string | undefined, what: string): number => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n)) throw new RangeError(`lr schedule '${spec}': bad ${what}`);
    return n;
  };
  switch (parts[0]) {
    case 'constant':
      if (parts.length !== 1) break;
      return constantLr(lr, o);
    case 'step':
      if (parts.length !== 3) break;
      return stepLr(lr, num(parts[1], 'period'), num(parts[2], 'gamma'), o);
    case 'cosine':
      if (parts.length > 2) break;
      return cosineLr(lr, totalEpochs, parts.length === 2 ? num(parts[1], 'minimum lr') : 0, o);
  }
  throw new RangeError(`lr schedule: unknown spec '${spec}' (expected constant, step:<every>:<gamma> or cosine[:<min>])`);
}
