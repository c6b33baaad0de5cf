/** src/onnx/schema.ts is what scripts/gen-onnx-schema.mjs makes of src/onnx/onnx.proto, and it round-trips a model. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { floatTensor } from '../../src/onnx/tensor.js';

const root = new URL('../..', import.meta.url).pathname;

test('the committed ONNX schema descriptor is up to date with onnx.proto', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-onnx-schema.mjs', '--print'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(`${root}/src/onnx/schema.ts`, 'utf8'), 'run node scripts/gen-onnx-schema.mjs');
});

test('encode/decode: int64 fields become numbers, raw float data survives', () => {
  const t = floatTensor('w', [2, 2], Float32Array.of(1.5, -2, 3.25, 1e-30));
  const bytes = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 17 }], metadata_props: [], graph: { name: 'g', node: [], initializer: [t], input: [], output: [], value_info: [] } });
  const m = decodeModel(bytes);
  assert.equal(m.ir_version, 8);
  assert.equal(m.opset_import[0].version, 17);
  assert.deepEqual(m.graph!.initializer[0].dims, [2, 2]);
  assert.deepEqual(new Float32Array(new Uint8Array(m.graph!.initializer[0].raw_data!).buffer), Float32Array.of(1.5, -2, 3.25, 1e-30));
  assert.throws(() => decodeModel(Uint8Array.of(0x0a, 0xff)), /not an ONNX model/);
});
