/**
 * goten export against onnxruntime: a model with every exported operator gives the same logits in
 * onnxruntime (CPU) as in goten's plain forward pass; the file is standard ONNX (opset 17, dynamic batch,
 * normalisation inside, no Dropout); export → import restores the checkpoint's tensors bit for bit.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadDataset } from '../../src/data/spec.js';
import { createHash } from 'node:crypto';
import { getBackend } from '../../src/backend/index.js';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { forwardLogits, normalizeInputs } from '../../src/nn/inference.js';
import { inferenceModelFromBytes } from '../../src/onnx/model-bytes.js';
import { checkpointToOnnx } from '../../src/onnx/export.js';
import { importOnnxBytes } from '../../src/onnx/import.js';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { ortClasses, scaledImages } from '../../scripts/ort-classes.js';
import { ALL_OPS_DATA, allOpsCheckpoint, argmax, gotenLogits, relErr, tempDir } from './helpers.js';

describe('goten export (ONNX) against onnxruntime', () => {
  let ckPath: string;
  let bytes: Uint8Array;
  before(async () => {
    ckPath = await allOpsCheckpoint(tempDir());
    bytes = encodeModel(checkpointToOnnx(loadCheckpoint(ckPath)));
  });

  it('is a standard opset-17 model: dynamic batch, [0,1] input normalised inside, logits out, no Dropout', () => {
    const m = decodeModel(bytes);
    assert.equal(m.ir_version, 8);
    assert.deepEqual(m.opset_import.map((o) => [o.domain ?? '', o.version]), [['', 17]]);
    const g = m.graph!;
    assert.deepEqual(g.input[0].type?.tensor_type?.shape?.dim.map((d) => d.dim_param ?? d.dim_value), ['batch', 2, 11, 11]);
    assert.deepEqual(g.output[0].type?.tensor_type?.shape?.dim.map((d) => d.dim_param ?? d.dim_value), ['batch', 4]);
    const ops = g.node.map((n) => n.op_type);
    assert.deepEqual(ops.slice(0, 2), ['Sub', 'Div']);
    for (const op of ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Add']) assert.ok(ops.includes(op), op);
    assert.ok(!ops.includes('Dropout'));
    assert.equal(g.node.at(-1)!.output[0], 'logits');
  });

  it('onnxruntime gives the logits of goten plain mode (batches of 1 and 40)', async () => {
    const data = loadDataset(ALL_OPS_DATA, { limitTrain: 64, limitTest: 40, seed: 5 });
    const x = scaledImages(data.test);
    const ours = await gotenLogits(ckPath, x, 40);
    for (const batch of [1, 40]) {
      const ort = await ortClasses(bytes, x, data.inputShape, batch);
      assert.ok(relErr(ort.logits, ours) < 1e-4, `batch ${batch}: relative error ${relErr(ort.logits, ours)}`);
      assert.deepEqual(ort.classes, argmax(ours, 4));
    }
  });

  it('export → import gives back the same tensors, names and normalisation', async () => {
    const ck = loadCheckpoint(ckPath);
    const back = importOnnxBytes(bytes).checkpoint;
    assert.deepEqual([...back.params.keys()].sort(), [...ck.params.keys()].sort());
    for (const [k, t] of ck.params) assert.deepEqual(back.params.get(k)!.data, t.data, k);
    for (const [k, t] of ck.buffers) assert.deepEqual(back.buffers.get(k)!.data, t.data, k);
    assert.deepEqual(back.info.norm, ck.info.norm);
    assert.equal(back.info.data, ALL_OPS_DATA);
    const data = loadDataset(ALL_OPS_DATA, { limitTrain: 64, limitTest: 40, seed: 5 });
    const x = scaledImages(data.test);
    assert.deepEqual(await gotenLogits(back, x, 40), await gotenLogits(ck, x, 40));
  });

  it('goten serve takes the .onnx bytes: the attested digest is the file\'s, the logits the checkpoint\'s', async () => {
    const im = inferenceModelFromBytes(bytes, new PlainExecutor(getBackend('js')), 'model');
    assert.equal(im.digest, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(im.data, ALL_OPS_DATA);
    const data = loadDataset(ALL_OPS_DATA, { limitTrain: 64, limitTest: 8, seed: 5 });
    const x = scaledImages(data.test);
    assert.deepEqual(await forwardLogits(im, normalizeInputs(im, x, 8), 8), await gotenLogits(ckPath, x, 8));
  });
});
