/**
 * Shared fixtures for the protocol tests: a small odd-shaped network, a
 * recording executor wrapper and a few training steps.
 */
import assert from 'node:assert/strict';
import type { BilinearOp } from '../../src/backend/bilinear.js';
import { DelegatingExecutor, type LinearExecutor, type OpTag, type RunOptions } from '../../src/nn/executor.js';
import type { Model } from '../../src/nn/model.js';
import { type ModelConfig, buildModel } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import { Rng } from '../../src/nn/rng.js';
import { trainStep } from '../../src/nn/train-step.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** Odd shapes on purpose: stride 2, non-square kernel and padding, BN, pooling, two FCs. */
export const ODD_NET: ModelConfig = {
  name: 'odd-net',
  layers: [
    { type: 'conv', out: 5, kernel: 3, stride: 2, pad: 1, bias: true },
    { type: 'bn2d' },
    { type: 'relu' },
    { type: 'conv', out: 3, kernel: [2, 3], pad: [0, 1] },
    { type: 'relu' },
    { type: 'maxpool', kernel: 2 },
    { type: 'flatten' },
    { type: 'linear', out: 7 },
    { type: 'relu' },
    { type: 'linear', out: 'classes' },
  ],
};
export const ODD_INPUT: [number, number, number] = [2, 9, 7];
export const ODD_CLASSES = 4;

/** Wraps an executor and records a copy of every op's result, in call order. */
export class RecordingExecutor extends DelegatingExecutor {
  readonly records: { key: string; op: BilinearOp; index: number; c: Float32Array }[] = [];
  override async run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts?: RunOptions): Promise<void> {
    await this.inner.run(op, tag, a, b, c, opts);
    this.records.push({ key: `${tag.layer}/${op.pass}`, op, index: tag.index, c: c.slice() });
  }
}

/** Asserts that `got` recorded the same ops, in the same order, with bit-identical results as `ref`. */
export function assertSameRecords(ref: RecordingExecutor, got: RecordingExecutor, what: string): void {
  assert.equal(got.records.length, ref.records.length, `${what}: number of ops`);
  for (let i = 0; i < ref.records.length; i++) {
    const r = ref.records[i];
    const g = got.records[i];
    assert.equal(g.key, r.key, `${what}: op ${i} order`);
    const rb = Buffer.from(r.c.buffer, r.c.byteOffset, r.c.byteLength);
    const gb = Buffer.from(g.c.buffer, g.c.byteOffset, g.c.byteLength);
    assert.ok(rb.equals(gb), `${what}: op ${i} (${r.key}) differs`);
  }
}

export function oddModel(seed: number, executor: LinearExecutor): Model {
  return buildModel(ODD_NET, { inputShape: ODD_INPUT, numClasses: ODD_CLASSES, seed, executor });
}

/** Deterministic batch of `batch` inputs and labels. */
export function oddBatch(batch: number, seed: number): { x: Tensor; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Tensor([batch, ...ODD_INPUT]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  const y = new Int32Array(batch);
  for (let i = 0; i < batch; i++) y[i] = rng.int(ODD_CLASSES);
  return { x, y };
}

/** `steps` SGD steps on fresh batches; returns the losses. */
export async function trainSteps(model: Model, steps: number, batch: number): Promise<number[]> {
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { x, y } = oddBatch(batch, 100 + s);
    losses.push((await trainStep(model, opt, x, y)).loss);
  }
  return losses;
}
