/**
 * A model in the form PyTorch's exporter writes (test/onnx/fixtures/small-resnet.onnx: BN folded into
 * biased convs, onnx::Conv_<n> initializers, /module/Op node names, residual Adds, GlobalAveragePool +
 * Flatten + Gemm, normalisation Sub/Div at the input; how it was made: docs/onnx.md) imports and predicts
 * onnxruntime's classes through `goten predict --model-file x.onnx`, in plain and in secure mode.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runPredict } from '../../src/cli/commands/predict.js';
import { loadDataset } from '../../src/data/spec.js';
import { importOnnxBytes } from '../../src/onnx/import.js';
import { ortClasses, scaledImages } from '../../scripts/ort-classes.js';
import { argmax, gotenLogits, relErr } from './helpers.js';

const FIXTURE = new URL('fixtures/small-resnet.onnx', import.meta.url).pathname;
const DATA = 'synthetic:3x12x12:5';
const flags = (mode: string, limit: number) => ({ modelFile: FIXTURE, data: DATA, mode, topology: 'single' as const, batch: 32, classes: true, json: true, backend: 'js', limit });

/** Indices whose top two onnxruntime logits differ by more than `margin` (8-bit secure mode cannot split closer ones). */
function clear(logits: Float32Array, k: number, margin: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / k; r++) {
    const row = [...logits.subarray(r * k, (r + 1) * k)].sort((a, b) => b - a);
    if (row[0] - row[1] > margin) out.push(r);
  }
  return out;
}

describe('a PyTorch-form ONNX model (fixture)', () => {
  const data = loadDataset(DATA, { limitTrain: 1, limitTest: 64, seed: 1 });
  const x = scaledImages(data.test);

  it('imports as conv/residual/GAP/linear with its normalisation, and gives onnxruntime\'s logits', async () => {
    const r = importOnnxBytes(readFileSync(FIXTURE), FIXTURE);
    const types = r.config.layers.map((l) => l.type);
    assert.deepEqual(types, ['conv', 'relu', 'maxpool', 'residual', 'relu', 'residual', 'relu', 'gap', 'flatten', 'linear']);
    assert.equal((r.config.layers[3] as { shortcut: unknown[] }).shortcut.length, 1);
    assert.equal((r.config.layers[5] as { shortcut: unknown[] }).shortcut.length, 0);
    assert.deepEqual(r.checkpoint.info.norm.mean.map((v) => Math.fround(v)), [0.5, 0.4, 0.3].map(Math.fround));
    assert.deepEqual(r.checkpoint.info.norm.std.map((v) => Math.fround(v)), [0.25, 0.2, 0.3].map(Math.fround));
    const ours = await gotenLogits(r.checkpoint, x, 64);
    const ort = await ortClasses(FIXTURE, x, data.inputShape);
    assert.ok(relErr(ours, ort.logits) < 1e-4, `relative error ${relErr(ours, ort.logits)}`);
    assert.deepEqual(argmax(ours, 5), ort.classes);
  });

  it('goten predict --model-file fixture.onnx: plain gives onnxruntime\'s classes; secure gives the quantized ones, and onnxruntime\'s where they are clear', async () => {
    const ort = await ortClasses(FIXTURE, x, data.inputShape);
    const plain = await runPredict(flags('plain', 64));
    assert.deepEqual(plain.classes, ort.classes);
    const q = await runPredict(flags('quantized', 32));
    const s = await runPredict(flags('secure', 32));
    assert.equal(s.mode, 'secure');
    assert.deepEqual(s.classes, q.classes);
    const sure = clear(ort.logits.subarray(0, 32 * 5), 5, 0.05);
    assert.ok(sure.length >= 24, `only ${sure.length} of 32 examples have a clear class`);
    for (const i of sure) assert.equal(s.classes![i], ort.classes[i], `example ${i}`);
  });
});
