/** Shared set-up of the ONNX tests: a model using every exported operator, trained briefly, and logits helpers. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../../src/backend/index.js';
import { loadDataset } from '../../src/data/spec.js';
import type { Checkpoint } from '../../src/nn/checkpoint.js';
import { buildModel } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { train } from '../../src/nn/trainer.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import { inferenceModel, normalizeInputs, forwardLogits } from '../../src/nn/inference.js';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'goten-onnx-'));

/** conv (bias and not), BN 2d and 1d, ReLU, max/avg pools (ceil, padding), residual blocks (projection and identity), dropout, GAP, linear. */
export const ALL_OPS = {
  name: 'all-ops',
  layers: [
    { type: 'conv', name: 'stem', out: 6, kernel: 3, pad: 1, bias: true },
    { type: 'bn2d', name: 'stem_bn' },
    { type: 'relu' },
    { type: 'maxpool', kernel: 3, stride: 2, pad: 1, ceil: true },
    {
      type: 'residual', name: 'block',
      body: [{ type: 'conv', name: 'conv1', out: 8, kernel: 3, stride: 2, pad: 1 }, { type: 'bn2d', name: 'bn1' }, { type: 'relu' }, { type: 'conv', name: 'conv2', out: 8, kernel: [1, 3], pad: [0, 1] }],
      shortcut: [{ type: 'conv', name: 'down', out: 8, kernel: 1, stride: 2 }],
    },
    { type: 'relu' },
    { type: 'residual', body: [{ type: 'conv', out: 8, kernel: 3, pad: 1 }, { type: 'bn2d' }] },
    { type: 'avgpool', kernel: 2, stride: 1, pad: 1 },
    { type: 'dropout', p: 0.3 },
    { type: 'gap' },
    { type: 'linear', out: 12 },
    { type: 'bn1d' },
    { type: 'relu' },
    { type: 'linear', out: 'classes' },
  ],
};
export const ALL_OPS_DATA = 'synthetic:2x11x11:4';

/** Trains ALL_OPS one short epoch (plain, js) so BN statistics and weights are not at their initial values. */
export async function allOpsCheckpoint(dir: string): Promise<string> {
  const path = join(dir, 'all-ops.safetensors');
  const data = loadDataset(ALL_OPS_DATA, { limitTrain: 64, limitTest: 40, seed: 5 });
  const spec = JSON.stringify(ALL_OPS);
  const model = buildModel(spec, { inputShape: [...data.inputShape], numClasses: data.numClasses, seed: 5, executor: new PlainExecutor(getBackend('js')) });
  await train({
    model, data, optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }), epochs: 1, batchSize: 16, seed: 5,
    describe: { model: spec, data: ALL_OPS_DATA, mode: 'plain', hyper: {} }, save: { path },
  });
  return path;
}

/** Logits of a checkpoint on raw inputs (the loader's convention: values before normalisation). */
export async function gotenLogits(c: Checkpoint | string, x: Float32Array, count: number, executor: LinearExecutor = new PlainExecutor(getBackend('js'))): Promise<Float32Array> {
  const ckpt = typeof c === 'string' ? loadCheckpoint(c) : c;
  const im = inferenceModel(ckpt, executor, '');
  return forwardLogits(im, normalizeInputs(im, x, count), count);
}

export function argmax(logits: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / k; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[r * k + j] > logits[r * k + best]) best = j;
    out.push(best);
  }
  return out;
}

/** Largest |a − b| relative to the largest |b|. */
export function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 1e-12;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}
