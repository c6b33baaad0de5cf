import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Checkpoint } from '../../src/nn/checkpoint.js';
import { applyCheckpointDefaults, type TrainFlags } from '../../src/cli/train-setup.js';

const flags: TrainFlags = {
  model: 'mnist-cnn', data: 'mnist', mode: 'plain', epochs: 3, batch: 64, seed: 1, momentum: 0.9, weightDecay: 5e-4,
  nesterov: false, schedule: 'cosine', optimizer: 'sgd', backend: 'auto', json: false, topology: 'single', workers: '3',
};

function ckpt(epochs: number | undefined): Checkpoint {
  return {
    info: {
      model: 'tiny', data: 'synthetic:1x8x8:3', mode: 'plain', seed: 4, epoch: 2, step: 12, epochs, batchSize: 16,
      hyper: { optimizer: 'sgd', lr: 0.05, schedule: 'cosine' }, norm: { mean: [0], std: [1] }, numClasses: 3, inputShape: [1, 8, 8],
    },
    params: new Map(), buffers: new Map(), optimizer: {}, rng: { model: [1, 2, 3, 4], loader: {} as Checkpoint['rng']['loader'] },
  };
}

test('--resume without --epochs continues to the checkpoint run\'s planned total, not the flag default', () => {
  const out = applyCheckpointDefaults(flags, ckpt(10), () => false);
  assert.equal(out.epochs, 10);
  assert.equal(out.batch, 16);
});

test('--resume with --epochs given keeps the command-line value', () => {
  const out = applyCheckpointDefaults({ ...flags, epochs: 5 }, ckpt(10), (k) => k === 'epochs');
  assert.equal(out.epochs, 5);
});

test('--resume of an old checkpoint without a planned total keeps the flag value', () => {
  assert.equal(applyCheckpointDefaults(flags, ckpt(undefined), () => false).epochs, 3);
});
