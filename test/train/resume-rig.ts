/**
 * The run the resume tests repeat (resume, memory-resume): 2 epochs of a tiny model on synthetic 1×8×8
 * data in batches of 8 (6 per epoch, the last one 4), cosine schedule, augmentation on, seeded.
 */
import { createJsBackend } from '../../src/backend/js/index.js';
import { loadDataset } from '../../src/data/index.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import type { Model } from '../../src/nn/model.js';
import type { Optimizer } from '../../src/nn/optim.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { cosineLr } from '../../src/nn/schedule.js';
import type { EpochMetrics, TrainOptions } from '../../src/nn/trainer.js';
import { createQuantizedExecutor } from '../../src/protocol/quantized-executor.js';

export type Mode = 'plain' | 'quantized';

export const spec = 'synthetic:1x8x8:3';
export const data = loadDataset(spec, { seed: 3, limitTrain: 44, limitTest: 12 }); // 6 batches of 8 (last one 4)
const backend = createJsBackend();

/** A fresh executor for `mode` (the quantized one seeded alike every time). */
export function makeExecutor(mode: Mode): LinearExecutor {
  return mode === 'plain' ? new PlainExecutor(backend) : createQuantizedExecutor({ backend, seed: 5 });
}

export function opts(mode: Mode, s: { model: Model; optimizer: Optimizer }, extra: Partial<TrainOptions>): TrainOptions {
  return {
    model: s.model,
    optimizer: s.optimizer,
    data,
    schedule: cosineLr(0.1, 2),
    epochs: 2,
    batchSize: 8,
    seed: 7,
    augment: true, // exercises the augmentation stream too
    describe: { model: 'tiny', data: spec, mode, hyper: { lr: 0.1 } },
    ...extra,
  };
}

// timings differ, and `ops` counts only the products run in this process
export const strip = (e: EpochMetrics) => ({ ...e, seconds: 0, evalSeconds: 0, imagesPerSecond: 0, ops: 0 });
