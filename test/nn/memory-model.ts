/**
 * The model the managed-memory tests train (memory-offload, memory-parameters): every layer kind that
 * saves something, holds parameters or passes buffers through — conv, BN, ReLU, max/avg-pool, residual
 * blocks (identity and projection shortcut), flatten, linear (with bias), dropout — on 3×8×8 inputs, 4 classes.
 */
import type { LinearExecutor } from '../../src/nn/executor.js';
import type { SequentialModel } from '../../src/nn/model.js';
import type { ModelConfig } from '../../src/nn/models/config.js';
import { buildModel } from '../../src/nn/models/index.js';

export const MEMORY_TEST_CONFIG: ModelConfig = {
  name: 'memory-test',
  layers: [
    { type: 'conv', out: 6, kernel: 3, pad: 1 },
    { type: 'bn2d' },
    { type: 'relu' },
    { type: 'maxpool', kernel: 2 },
    { type: 'residual', body: [{ type: 'conv', out: 6, kernel: 3, pad: 1 }, { type: 'bn2d' }, { type: 'relu' }, { type: 'conv', out: 6, kernel: 3, pad: 1 }] },
    { type: 'residual', body: [{ type: 'conv', out: 8, kernel: 1, stride: 2 }, { type: 'relu' }], shortcut: [{ type: 'avgpool', kernel: 2 }, { type: 'conv', out: 8, kernel: 1 }] },
    { type: 'relu' },
    { type: 'flatten' },
    { type: 'linear', out: 12 },
    { type: 'relu' },
    { type: 'dropout', p: 0.3 },
    { type: 'linear', out: 'classes' },
  ],
};

/** MEMORY_TEST_CONFIG built with a fixed seed (7) on `executor`. */
export function buildMemoryTestModel(executor: LinearExecutor): SequentialModel {
  return buildModel(MEMORY_TEST_CONFIG, { inputShape: [3, 8, 8], numClasses: 4, seed: 7, executor });
}
