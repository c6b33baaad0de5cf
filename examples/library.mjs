// goten-ts as a library: build the `mnist-cnn` model, train it for one epoch in quantized mode
// (SWALP-quantized operands, every linear product exact mod P — the oracle the secure protocol
// reproduces bit for bit) on 1024 synthetic 1×28×28 images of 10 classes, and print one JSON line.
//
//   npm install goten-ts   (or the tarball of `npm pack`), then   node library.mjs
//
// The same run on the command line: goten train --model mnist-cnn --data synthetic:1x28x28:10
//   --mode quantized --epochs 1 --limit-train 1024 --limit-test 256 --json
import { BASE_RECIPE, buildModel, buildOptimizer, buildSchedule, createModeExecutor, loadDataset, modelRecipe, train } from 'goten-ts';

const seed = 1;
const data = loadDataset('synthetic:1x28x28:10', { limitTrain: 1024, limitTest: 256, seed });

// 'plain' (float32), 'quantized' or 'secure' (starts three local worker processes); backend 'auto'
// uses the native addon when it was built at install, else the TypeScript kernels
const executor = await createModeExecutor({ mode: 'quantized', backend: 'auto', seed });
const model = buildModel('mnist-cnn', { inputShape: [...data.inputShape], numClasses: data.numClasses, seed, executor });

// the model's measured recipe (batch, rate, momentum, …), as `goten train` uses it
const recipe = { ...BASE_RECIPE, ...modelRecipe('mnist-cnn') };
const config = {
  optimizer: 'sgd',
  lr: recipe.lr,
  momentum: recipe.momentum,
  weightDecay: recipe.weightDecay,
  nesterov: false,
  schedule: recipe.schedule,
  warmup: String(recipe.warmup),
  epochs: 1,
};

try {
  const result = await train({
    model,
    data,
    optimizer: buildOptimizer(config, model.parameters()),
    schedule: buildSchedule(config),
    epochs: config.epochs,
    batchSize: recipe.batch,
    seed,
    describe: { model: 'mnist-cnn', data: data.name, mode: 'quantized', hyper: {} },
  });
  const last = result.epochs.at(-1);
  console.log(JSON.stringify({ model: model.name, data: data.name, mode: 'quantized', epochs: result.epoch, trainImages: data.train.count, testAccuracy: last.testAccuracy }));
} finally {
  await executor.close?.();
}
