/** The TypeScript reference kernels as one NnKernels (always available; see types.ts). */
import * as bn from './reference-batchnorm.js';
import * as ew from './reference-elementwise.js';
import * as opt from './reference-optim.js';
import * as pool from './reference-pool.js';
import type { NnKernels } from './types.js';

export const referenceNnKernels: NnKernels = Object.freeze({
  name: 'reference',
  reluForward: ew.reluForward,
  reluBackward: ew.reluBackward,
  accumulate: ew.accumulate,
  isZero: ew.isZero,
  multiply: ew.multiply,
  addChannelBias: ew.addChannelBias,
  reduceChannelBias: ew.reduceChannelBias,
  bnForwardTrain: bn.bnForwardTrain,
  bnForwardEval: bn.bnForwardEval,
  bnBackward: bn.bnBackward,
  maxPoolForward: pool.maxPoolForward,
  maxPoolBackward: pool.maxPoolBackward,
  avgPoolForward: pool.avgPoolForward,
  avgPoolBackward: pool.avgPoolBackward,
  globalAvgPoolForward: pool.globalAvgPoolForward,
  globalAvgPoolBackward: pool.globalAvgPoolBackward,
  sgdUpdate: opt.sgdUpdate,
  adamUpdate: opt.adamUpdate,
});
