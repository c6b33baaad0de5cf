/**
 * Per-channel normalisation x' = (x·scale − mean_c) / std_c, with mean and std
 * measured on the training split (population std, float64 accumulation).
 * Measuring instead of hard-coding keeps every data set — including synthetic
 * ones and user IDX directories — centred with unit variance per channel,
 * which is what the Kaiming-initialised models expect.
 */
import type { Split } from './dataset.js';

export interface ChannelStats {
  readonly mean: number[];
  readonly std: number[];
}

export function channelStats(split: Split): ChannelStats {
  const [C, H, W] = split.shape;
  const hw = H * W;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  const img = split.images;
  for (let n = 0; n < split.count; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * hw;
      let s = 0;
      let q = 0;
      for (let i = 0; i < hw; i++) {
        const v = img[base + i];
        s += v;
        q += v * v;
      }
      sum[c] += s;
      sq[c] += q;
    }
  }
  const count = split.count * hw;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < C; c++) {
    const m = sum[c] / count;
    const variance = Math.max(sq[c] / count - m * m, 0);
    mean.push(m * split.scale);
    // a constant channel would divide by zero; leave it unscaled instead
    std.push(variance > 1e-12 ? Math.sqrt(variance) * split.scale : 1);
  }
  return { mean, std };
}

/** Checks stats loaded from a checkpoint against the data's channel count. */
export function validateStats(stats: ChannelStats, channels: number): ChannelStats {
  if (typeof stats !== 'object' || stats === null || !Array.isArray(stats.mean) || !Array.isArray(stats.std)) {
    throw new Error('normalisation stats are missing or malformed (expected {mean: number[], std: number[]})');
  }
  if (stats.mean.length !== channels || stats.std.length !== channels) {
    throw new Error(`normalisation stats have ${stats.mean.length} channels, the data has ${channels}`);
  }
  if (stats.std.some((s) => typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) || stats.mean.some((m) => !Number.isFinite(m))) {
    throw new Error('normalisation stats must have finite means and positive standard deviations');
  }
  return stats;
}
