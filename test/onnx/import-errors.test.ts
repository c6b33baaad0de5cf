/**
 * goten import refuses what it cannot run faithfully, naming the first unsupported operator, attribute
 * or shape; the CLI writes a checkpoint predict can use, and exits 1 with the message otherwise.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadCheckpoint } from '../../src/nn/checkpoint.js';
import { intAttr, intsAttr } from '../../src/onnx/attrs.js';
import { checkpointToOnnx } from '../../src/onnx/export.js';
import { onnxToCheckpoint } from '../../src/onnx/import.js';
import { encodeModel, type ModelProto, type NodeProto } from '../../src/onnx/proto.js';
import { int64Tensor } from '../../src/onnx/tensor.js';
import { allOpsCheckpoint, tempDir } from './helpers.js';
import { goten } from '../cli.js';


describe('goten import: errors name what is unsupported', () => {
  let base: ModelProto;
  let dir: string;
  before(async () => {
    dir = tempDir();
    base = checkpointToOnnx(loadCheckpoint(await allOpsCheckpoint(dir)));
  });
  const variant = (edit: (m: ModelProto, node: (op: string) => NodeProto) => void): ModelProto => {
    const m = structuredClone(base);
    edit(m, (op) => m.graph!.node.find((n) => n.op_type === op)!);
    return m;
  };
  const refuses = (m: ModelProto, re: RegExp) => assert.throws(() => onnxToCheckpoint(m, 'm.onnx'), re);

  it('an operator', () => {
    refuses(variant((_, node) => (node('Relu').op_type = 'Sigmoid')), /unsupported operator Sigmoid \(the Sigmoid node '2'\); supported: Conv, Gemm/);
  });

  it('attributes: grouped conv, asymmetric pads, an unknown attribute, auto_pad', () => {
    refuses(variant((_, node) => node('Conv').attribute.push(intAttr('group', 2))), /the Conv node 'stem': attribute 'group' = 2 is not supported/);
    refuses(variant((_, node) => (node('Conv').attribute.find((a) => a.name === 'pads')!.ints = [1, 1, 0, 0])), /attribute 'pads' = \[1,1,0,0\] is not supported \(2-D, symmetric only\)/);
    refuses(variant((_, node) => node('MaxPool').attribute.push(intsAttr('foo', [1]))), /the MaxPool node '3': attribute 'foo' is not supported/);
  });

  it('shapes: a dynamic image size, weights that do not fit, a computed reshape, an old opset', () => {
    refuses(variant((m) => (m.graph!.input[0].type!.tensor_type!.shape!.dim[2] = { dim_param: 'h' })), /input 'input' has shape \[batch,2,h,11\]; expected \[batch, C, H, W\] with fixed C, H and W/);
    refuses(
      variant((m) => {
        const fc = m.graph!.initializer.find((t) => t.name === '10.weight')!;
        fc.dims = [12, 4];
        fc.raw_data = fc.raw_data!.subarray(0, 12 * 4 * 4);
      }),
      /the Gemm node '10': weight of shape \[12,4\] does not fit its input \[8\] \(needs \[12,8\]\)/,
    );
    refuses(
      variant((m, node) => {
        const f = node('Flatten');
        Object.assign(f, { op_type: 'Reshape', attribute: [], input: [f.input[0], 'computed'] });
        m.graph!.node.unshift({ op_type: 'Shape', name: 'shape', input: ['input.mean'], output: ['computed'], attribute: [] });
      }),
      /the Reshape node '9': its target shape is computed at run time \(Shape\/Gather\/Concat\); flatten with torch.flatten\(x, 1\)/,
    );
    refuses(variant((m) => (m.opset_import[0].version = 9)), /opset 9 is not supported \(need 11 or later/);
    // a [C] constant broadcasts along W, not along the channels
    refuses(
      variant((m) => (m.graph!.initializer.find((t) => t.name === 'input.mean')!.dims = [2])),
      /the Sub node 'normalize\/sub': constant of shape \[2\] at the input; only per-channel/,
    );
  });

  it('a Reshape to [-1, n] is a flatten; its size is checked', () => {
    const ok = variant((m, node) => {
      const f = node('Flatten');
      Object.assign(f, { op_type: 'Reshape', attribute: [], input: [f.input[0], 'shape'] });
      m.graph!.initializer.push(int64Tensor('shape', [-1, 8]));
    });
    assert.equal(onnxToCheckpoint(ok).config.layers.filter((l) => l.type === 'flatten').length, 1);
    const bad = structuredClone(ok);
    bad.graph!.initializer.find((t) => t.name === 'shape')!.int64_data = [-1, 9];
    refuses(bad, /the Reshape node '9': reshapes \[8\] \(8 values per image\) to 9 features/);
  });

  it('the CLI: a checkpoint out, or exit 1 with the reason', () => {
    const good = join(dir, 'good.onnx');
    writeFileSync(good, encodeModel(base));
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, encodeModel(variant((_, node) => (node('Relu').op_type = 'Tanh'))));
    const run = (f: string) => goten(['import', f, '--out', join(dir, 'out.safetensors')]);
    const ok = run(good);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /wrote .*out\.safetensors: 14 layers, \d+ parameters, input 2×11×11 → 4 classes, data synthetic:2x11x11:4/);
    assert.equal(loadCheckpoint(join(dir, 'out.safetensors')).info.numClasses, 4);
    const no = run(bad);
    assert.equal(no.status, 1);
    assert.match(no.stderr, /^goten: unsupported operator Tanh/m);
  });
});
