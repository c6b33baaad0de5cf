/**
 * The must-show, as a test: mnist-cnn trained one epoch on 4096 Fashion-MNIST images (sealed to
 * the simulated TEE), exported with `goten export` (which opens the sealed file with the TEE provider),
 * and onnxruntime on the first 1000 test images scaled to [0, 1] agreeing with `goten predict --classes`
 * on at least 99.5 % of them. Needs Debian's dataset-fashion-mnist (.ci/run installs it); skipped without.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { runPredict } from '../../src/cli/commands/predict.js';
import { register as registerTrain } from '../../src/cli/commands/train.js';
import { loadDataset } from '../../src/data/spec.js';
import { FASHION_MNIST_DIR } from '../../src/data/mnist.js';
import { ortClasses, scaledImages } from '../../scripts/ort-classes.js';
import { goten as runGoten } from '../cli.js';

const skip = existsSync(FASHION_MNIST_DIR) ? false : `Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist puts it in ${FASHION_MNIST_DIR})`;

test('Fashion-MNIST: onnxruntime on the exported model agrees with goten predict on ≥ 99.5 % of 1000 test images', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-fashion-'));
  const env = { ...process.env, GOTEN_SIM_QUOTING_KEY: join(dir, 'sim-key') };
  const goten = (...args: string[]) => runGoten(args, { env });
  const ck = join(dir, 'ck.safetensors');
  const onnx = join(dir, 'm.onnx');
  process.env.GOTEN_SIM_QUOTING_KEY = env.GOTEN_SIM_QUOTING_KEY; // this process seals and opens the checkpoint too
  // goten train in-process (a child process would cost the suite a TypeScript start-up); export through the CLI
  const argv = ['--model', 'mnist-cnn', '--data', 'fashion-mnist', '--mode', 'plain', '--epochs', '1', '--limit-train', '4096', '--limit-test', '1000', '--seal', '--save', ck];
  const program = new Command().exitOverride();
  registerTrain(program);
  await program.parseAsync(['train', ...argv], { from: 'user' });
  const e = goten('export', '--model-file', ck, '--format', 'onnx', '--out', onnx);
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stderr, /wrote .*m\.onnx: ONNX opset 17/);
  const p = await runPredict({ modelFile: ck, data: 'fashion-mnist', mode: 'plain', topology: 'single', limit: 1000, batch: 256, classes: true, json: true, backend: 'auto' });
  const data = loadDataset('fashion-mnist', { limitTrain: 1, limitTest: 1000 });
  const ort = await ortClasses(onnx, scaledImages(data.test), data.inputShape);
  const same = ort.classes.filter((c, i) => c === p.classes![i]).length;
  assert.ok(same >= 995, `onnxruntime and goten predict agree on ${same}/1000`);
  assert.ok(p.accuracy > 0.6, `accuracy ${p.accuracy}`);
});
