/**
 * A few training steps of a small model that uses every NnKernels kernel (conv bias, batch norm
 * 2d and 1d, ReLU, max and average pooling, global average pooling, dropout, SGD with Nesterov
 * momentum and weight decay, then AdamW), on the js backend so that only the non-linear kernels
 * can differ between processes. `trainFingerprint` hashes everything the run produced.
 *
 * Run as a script it prints {"kernels", "reason", "fingerprint"} (nn-kernels-choice.test.ts runs
 * it in a child process with GOTEN_NATIVE_DISABLE=1).
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { getBackend } from '../../src/backend/index.js';
import { nnKernelsChoice } from '../../src/nn/kernels/index.js';
import { buildModel, type ModelConfig } from '../../src/nn/models/index.js';
import { Adam, type Optimizer, SGD } from '../../src/nn/optim.js';
import { trainStep } from '../../src/nn/train-step.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { Rng } from '../../src/nn/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

const NET: ModelConfig = {
  name: 'every-kernel',
  layers: [
    { type: 'conv', out: 5, kernel: 3, pad: 1, bias: true },
    { type: 'bn2d' },
    { type: 'relu' },
    { type: 'maxpool', kernel: 3, stride: 2, pad: 1 },
    { type: 'conv', out: 6, kernel: 3, pad: 1, bias: false },
    { type: 'bn2d' },
    { type: 'relu' },
    { type: 'avgpool', kernel: 2, ceil: true },
    { type: 'conv', out: 7, kernel: 1 },
    { type: 'gap' },
    { type: 'linear', out: 9 },
    { type: 'bn1d' },
    { type: 'relu' },
    { type: 'dropout', p: 0.25 },
    { type: 'linear', out: 'classes' },
  ],
};

export async function trainFingerprint(): Promise<string> {
  const hash = createHash('sha256');
  const add = (a: Float32Array | Float64Array): void => {
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  const rng = new Rng(3);
  const x = new Tensor([3, 3, 11, 9]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  const labels = Int32Array.of(0, 3, 1);
  const makers: ((m: ReturnType<typeof buildModel>) => Optimizer)[] = [
    (m) => new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-3 }),
    (m) => new Adam(m.parameters(), { lr: 0.01, weightDecay: 0.01, decoupled: true }),
  ];
  for (const make of makers) {
    const model = buildModel(NET, { inputShape: [3, 11, 9], numClasses: 4, seed: 7, executor: new PlainExecutor(getBackend('js')) });
    const opt = make(model);
    for (let step = 0; step < 3; step++) {
      const { loss } = await trainStep(model, opt, x, labels);
      hash.update(`${loss};`);
    }
    add((await model.forward(x, false)).data);
    for (const p of model.parameters()) add(p.value);
    for (const b of model.buffers()) add(b.value);
    for (const t of Object.values(opt.getState().tensors)) add(t);
  }
  return hash.digest('hex');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const c = nnKernelsChoice();
  console.log(JSON.stringify({ kernels: c.kernels.name, reason: c.reason ?? null, fingerprint: await trainFingerprint() }));
}
