/**
 * Learning-rate schedules, evaluated per step:  lr = lrAt(epoch, stepInEpoch, stepsPerEpoch)
 * with 0-based epoch and step, and t = epoch + stepInEpoch / stepsPerEpoch (fractional epochs).
 *
 *   constant  lr = η
 *   step      lr = η · γ^floor(epoch / every)                    (PyTorch StepLR, per epoch)
 *   cosine    lr = η_min + (η − η_min) · (1 + cos(π · t / T)) / 2 (per step, T = total epochs)
 * Any schedule may add a linear warm-up over the first W epochs: lr · min(1, (t + 1/stepsPerEpoch) / W).
 */
export interface LrSchedule {
  lrAt(epoch: number, stepInEpoch: number, stepsPerEpoch: number): number;
}

export interface ScheduleOptions {
  warmupEpochs?: number;
}

function warm(lr: number, o: ScheduleOptions, epoch: number, step: number, steps: number): number {
  const w = o.warmupEpochs ?? 0;
  if (w <= 0) return lr;
  const t = epoch + (step + 1) / steps;
  return t >= w ? lr : (lr * t) / w;
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
 * Goten's paper schedule) or `cosine[:<minLr>]`; optional `,warmup:<epochs>` suffix.
 */
export function parseSchedule(spec: string, lr: number, totalEpochs: number): LrSchedule {
  const [main, ...extra] = spec.split(',');
  const o: ScheduleOptions = {};
  for (const x of extra) {
    const m = /^warmup:(\d+(?:\.\d+)?)$/.exec(x.trim());
    if (m === null) throw new RangeError(`lr schedule: unknown option '${x}' (expected warmup:<epochs>)`);
    o.warmupEpochs = Number(m[1]);
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
