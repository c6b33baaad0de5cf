/**
 * Where `goten train`'s hyper-parameters come from: BASE_RECIPE < the model's recipe (a built-in
 * model's, or a JSON config's `recipe`) < a resumed checkpoint < flags given on the command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Checkpoint } from '../../src/nn/checkpoint.js';
import { BASE_RECIPE, buildModel, modelNames, modelRecipe, PRESET_RECIPES, presetConfig, validateModelConfig } from '../../src/nn/models/index.js';
import { describeRecipe, resolveRecipe, type TrainArgs } from '../../src/cli/train-defaults.js';
import { applyCheckpointDefaults } from '../../src/cli/train-setup.js';
import { buildSchedule, hyperOf } from '../../src/nn/train-config.js';

const args: TrainArgs = {
  model: 'vgg11', data: 'synthetic:3x32x32:10', mode: 'plain', epochs: 3, seed: 1, nesterov: false, optimizer: 'sgd',
  backend: 'auto', json: false, topology: 'single', workers: '3',
};
const none = () => false;
const tinyLayers = [{ type: 'flatten' }, { type: 'linear', out: 'classes' }];
const tinyConfig = (recipe?: object) => JSON.stringify({ name: 'tiny', layers: tinyLayers, ...(recipe ? { recipe } : {}) });

test('every built-in model carries its recipe, and nothing but recipe fields', () => {
  for (const name of modelNames) {
    assert.deepEqual(presetConfig(name).recipe, PRESET_RECIPES[name], name);
    assert.deepEqual(modelRecipe(name), PRESET_RECIPES[name], name);
  }
  assert.equal(modelRecipe(tinyConfig()), undefined);
  // the VGGs need a warm-up (measured: docs/training.md)
  for (const name of ['vgg11', 'vgg13', 'vgg16']) assert.notEqual(presetConfig(name).recipe?.warmup ?? '0', '0', name);
  // the template round-trips through JSON and builds
  const json = JSON.stringify(presetConfig('mnist-cnn'));
  assert.deepEqual(validateModelConfig(JSON.parse(json)).recipe, PRESET_RECIPES['mnist-cnn']);
});

test('no flags: a built-in model trains with its recipe, a config without one with BASE_RECIPE', () => {
  const vgg = resolveRecipe(args, modelRecipe('vgg11'), none);
  const want = { ...BASE_RECIPE, ...PRESET_RECIPES.vgg11 };
  assert.equal(vgg.flags.lr, want.lr);
  assert.equal(vgg.flags.batch, want.batch);
  assert.equal(vgg.flags.warmup, String(want.warmup));
  assert.equal(vgg.flags.schedule, want.schedule);
  assert.equal(vgg.sources.lr, 'model');
  assert.equal(vgg.sources.momentum, PRESET_RECIPES.vgg11.momentum === undefined ? 'default' : 'model');
  const plain = resolveRecipe({ ...args, model: tinyConfig() }, modelRecipe(tinyConfig()), none);
  assert.deepEqual(
    { batch: plain.flags.batch, lr: plain.flags.lr, momentum: plain.flags.momentum, weightDecay: plain.flags.weightDecay, schedule: plain.flags.schedule, warmup: plain.flags.warmup },
    BASE_RECIPE,
  );
  assert.ok(Object.values(plain.sources).every((s) => s === 'default'));
  // the rate a divergence message suggests first
  assert.deepEqual([vgg.recipeLr, plain.recipeLr], [PRESET_RECIPES.vgg11.lr, BASE_RECIPE.lr]);
});

test("a JSON config's recipe sets what it names; the rest is BASE_RECIPE", () => {
  const spec = tinyConfig({ lr: 0.01, batch: 32, warmup: '100steps' });
  const r = resolveRecipe({ ...args, model: spec }, modelRecipe(spec), none);
  assert.equal(r.flags.lr, 0.01);
  assert.equal(r.flags.batch, 32);
  assert.equal(r.flags.warmup, '100steps');
  assert.equal(r.flags.weightDecay, BASE_RECIPE.weightDecay);
  assert.equal(r.sources.batch, 'model');
  assert.equal(r.sources.weightDecay, 'default');
  // numbers of epochs may be written as numbers
  assert.equal(resolveRecipe(args, { warmup: 2 }, none).flags.warmup, '2');
});

test('flags given on the command line win over the recipe; a checkpoint wins over the recipe', () => {
  const given = new Set(['lr', 'warmup']);
  const r = resolveRecipe({ ...args, lr: 0.003, warmup: '0', batch: 16 }, modelRecipe('vgg11'), (k) => given.has(k));
  assert.equal(r.flags.lr, 0.003);
  assert.equal(r.flags.warmup, '0');
  assert.equal(r.flags.batch, 16);
  assert.deepEqual([r.sources.lr, r.sources.warmup, r.sources.batch], ['flag', 'flag', 'checkpoint']);
  assert.match(describeRecipe(r, 0.003, 'vgg11'), /^batch 16, sgd lr 0\.003 \(momentum 0\.9, weight decay 0\.0005\), schedule cosine, warm-up none \(vgg11 recipe; from the checkpoint: --batch; given: --lr --warmup\)$/);
});

test("adam keeps its own default rate unless --lr is given; an explicit schedule's warm-up replaces the recipe's", () => {
  const adam = resolveRecipe({ ...args, optimizer: 'adam' }, modelRecipe('vgg11'), none);
  assert.equal(adam.flags.lr, undefined);
  assert.equal(hyperOf(adam.flags).lr, 0.001);
  assert.equal(adam.recipeLr, undefined);
  const own = resolveRecipe({ ...args, schedule: 'cosine,warmup-steps:5' }, modelRecipe('vgg11'), (k) => k === 'schedule');
  assert.equal(own.flags.warmup, '0');
  assert.equal(buildSchedule(own.flags).lrAt(0, 0, 100), (own.flags.lr ?? NaN) / 5);
  assert.throws(
    () => resolveRecipe({ ...args, schedule: 'cosine,warmup:1', warmup: '2' }, modelRecipe('vgg11'), (k) => k === 'schedule' || k === 'warmup'),
    /has its own warm-up: give it there or with --warmup, not both/,
  );
});

test('the warm-up reaches the schedule and the checkpoint; resume takes it back, or none from older checkpoints', () => {
  const r = resolveRecipe(args, { lr: 0.02, warmup: '1' }, none).flags;
  assert.equal(buildSchedule(r).lrAt(0, 0, 4), 0.02 * (1 + Math.cos(0)) / 2 / 4);
  const hyper = hyperOf(r);
  assert.equal(hyper.warmup, '1');
  assert.equal('warmup' in hyperOf({ ...r, warmup: '0' }), false, 'runs without a warm-up record none (older checkpoints match)');
  const ckpt = (h: Record<string, string | number | boolean | null>): Checkpoint => ({
    info: {
      model: 'vgg11', data: args.data, mode: 'plain', seed: 1, epoch: 1, step: 64, epochs: 3, batchSize: 64, hyper: h,
      norm: { mean: [0, 0, 0], std: [1, 1, 1] }, numClasses: 10, inputShape: [3, 32, 32],
    },
    params: new Map(), buffers: new Map(), optimizer: {}, rng: { model: [1, 2, 3, 4], loader: {} as Checkpoint['rng']['loader'] },
  });
  const resumed = applyCheckpointDefaults(args, ckpt(hyper), none);
  assert.equal(resumed.warmup, '1');
  assert.equal(resumed.lr, 0.02);
  const old = applyCheckpointDefaults(args, ckpt({ optimizer: 'sgd', lr: 0.05, schedule: 'cosine' }), none);
  assert.equal(resolveRecipe(old, modelRecipe('vgg11'), none).flags.warmup, '0');
  assert.equal(resolveRecipe(old, modelRecipe('vgg11'), none).flags.lr, 0.05);
});

test('bad recipes in a JSON config are refused with the field named', () => {
  const bad = (recipe: object) => () => buildModel(tinyConfig(recipe), { inputShape: [1, 4, 4], numClasses: 2, seed: 1 });
  assert.throws(bad({ lr: -1 }), /model config: recipe: 'lr' must be a positive number/);
  assert.throws(bad({ batch: 1.5 }), /'batch' must be a positive integer/);
  assert.throws(bad({ rate: 0.1 }), /unknown field 'rate'/);
  assert.throws(bad({ warmup: 'soon' }), /warm-up 'soon'/);
  assert.throws(bad({ schedule: 'cosine,warmup:1' }), /give the warm-up as 'warmup'/);
  assert.throws(bad({ schedule: 'linear' }), /unknown spec 'linear'/);
});
