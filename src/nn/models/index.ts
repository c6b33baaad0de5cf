/**
 * buildModel: a built-in name, a JSON text, or a ModelConfig object → a Model.
 */
import { getBackend } from '../../backend/index.js';
import type { LinearExecutor } from '../executor.js';
import { modelContext, SequentialModel } from '../model.js';
import { PlainExecutor } from '../plain-executor.js';
import { Rng } from '../rng.js';
import { buildLayers } from './build.js';
import { type ModelConfig, validateModelConfig } from './config.js';
import { presetConfig } from './presets.js';
import type { Recipe } from './recipes.js';

export type { LayerSpec, ModelConfig, Pair } from './config.js';
export { validateModelConfig } from './config.js';
export { modelNames, presetConfig } from './presets.js';
export { BASE_RECIPE, PRESET_RECIPES, RECIPE_KEYS, type Recipe, type RecipeKey } from './recipes.js';

export interface BuildOptions {
  /** Per-sample input shape [C, H, W]. */
  inputShape: [number, number, number];
  numClasses: number;
  /** Seeds the model's Rng (initialisation, then dropout). */
  seed: number;
  /** Defaults to a PlainExecutor on the best available backend. */
  executor?: LinearExecutor;
}

/** The default executor: plain float32 products on the best available backend (native, else js). */
export function defaultExecutor(): LinearExecutor {
  return new PlainExecutor(getBackend('auto'));
}

/** The config a model spec names: a built-in name, a JSON text, or a config object (validated). */
function configOf(spec: string | ModelConfig): ModelConfig {
  if (typeof spec !== 'string') return validateModelConfig(spec);
  return spec.trimStart().startsWith('{') ? validateModelConfig(JSON.parse(spec)) : presetConfig(spec);
}

/**
 * The recipe a model spec's config carries (built-in models: their measured one; see recipes.ts),
 * or undefined for a config without one.
 */
export function modelRecipe(spec: string | ModelConfig): Partial<Recipe> | undefined {
  const r = configOf(spec).recipe;
  return r === undefined ? undefined : { ...r };
}

/**
 * Builds a model. `spec` is a built-in name (see modelNames), a JSON text of a
 * ModelConfig (starting with `{`), or a ModelConfig object (validated).
 * Throws a RangeError/TypeError naming the offending layer or field.
 */
export function buildModel(spec: string | ModelConfig, opts: BuildOptions): SequentialModel {
  const config = configOf(spec);
  const shape = opts.inputShape;
  if (shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`buildModel: inputShape must be [C, H, W] of positive integers, got [${shape.join(',')}]`);
  }
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1) throw new RangeError(`buildModel: numClasses must be ≥ 1`);
  const ctx = modelContext(opts.executor ?? defaultExecutor(), new Rng(opts.seed));
  const layers = buildLayers(config, ctx, shape, opts.numClasses);
  return new SequentialModel(config.name, [shape[0], shape[1], shape[2]], opts.numClasses, layers, ctx);
}
