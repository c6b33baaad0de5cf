/**
 * `goten train`: fills the recipe options (batch, lr, momentum, weight decay,
 * schedule, warm-up) that the command line left open, and says where each
 * value came from for the run's header line.
 *
 * Lowest first: BASE_RECIPE < the model's recipe (a built-in model's measured
 * one, or a JSON config's `recipe`) < a resumed checkpoint < flags given on the
 * command line. The flags of these options have no commander default, so
 * `undefined` here means "not given" (and not taken from a checkpoint).
 */
import { BASE_RECIPE, type Recipe, type RecipeKey, RECIPE_KEYS } from '../nn/models/recipes.js';
import { formatWarmup, hasWarmup, parseWarmup } from '../nn/schedule.js';
import type { TrainFlags } from './train-setup.js';

type Open = 'batch' | 'momentum' | 'weightDecay' | 'schedule';
/** Flags as they arrive, before the recipe fills the options not given. */
export type TrainArgs = Omit<TrainFlags, Open> & Partial<Pick<TrainFlags, Open>>;

/** Where a recipe option's value came from. */
export type Source = 'flag' | 'checkpoint' | 'model' | 'default';

export interface ResolvedRecipe {
  flags: TrainFlags;
  sources: Record<RecipeKey, Source>;
  /** The model carries a recipe of its own (every built-in model does). */
  modelHasRecipe: boolean;
  /** The rate the model's recipe would have given (SGD only: undefined for other optimizers). */
  recipeLr: number | undefined;
}

/**
 * Completes `args` with `own` (the model's recipe, if it has one) over BASE_RECIPE.
 * `given(key)`: the flag was on the command line (a defined value not given came from a checkpoint).
 */
export function resolveRecipe(args: TrainArgs, model: Partial<Recipe> | undefined, given: (key: string) => boolean): ResolvedRecipe {
  const own = model ?? {};
  const sources = {} as Record<RecipeKey, Source>;
  const values = {} as Record<RecipeKey, string | number | undefined>;
  for (const k of RECIPE_KEYS) {
    const v = args[k];
    if (v !== undefined) {
      values[k] = v;
      sources[k] = given(k) ? 'flag' : 'checkpoint';
    } else {
      values[k] = own[k] ?? BASE_RECIPE[k];
      sources[k] = own[k] !== undefined ? 'model' : 'default';
    }
  }
  // the recipe's rate and momentum are SGD settings: Adam keeps its own default rate (defaultLr)
  if (args.optimizer !== 'sgd' && sources.lr !== 'flag' && sources.lr !== 'checkpoint') values.lr = undefined;
  const schedule = String(values.schedule);
  if (hasWarmup(schedule)) {
    if (sources.warmup === 'flag') throw new Error(`--schedule '${schedule}' has its own warm-up: give it there or with --warmup, not both`);
    values.warmup = '0'; // the schedule the user wrote wins over a recipe's warm-up
  }
  const flags: TrainFlags = {
    ...args,
    batch: Number(values.batch),
    lr: values.lr === undefined ? undefined : Number(values.lr),
    momentum: Number(values.momentum),
    weightDecay: Number(values.weightDecay),
    schedule,
    warmup: formatWarmup(parseWarmup(values.warmup ?? '0')),
  };
  const recipeLr = args.optimizer === 'sgd' ? (own.lr ?? BASE_RECIPE.lr) : undefined;
  return { flags, sources, modelHasRecipe: model !== undefined, recipeLr };
}

/** `1` → `1 epoch`, `0.5` → `0.5 epochs`, `200steps` → `200 steps`, `0` → `none`. */
export function describeWarmup(text: string): string {
  const w = parseWarmup(text);
  if (w === null) return 'none';
  if ('steps' in w) return `${w.steps} step${w.steps === 1 ? '' : 's'}`;
  return `${w.epochs} epoch${w.epochs === 1 ? '' : 's'}`;
}

const FLAG_NAMES: Record<RecipeKey, string> = {
  batch: '--batch',
  lr: '--lr',
  momentum: '--momentum',
  weightDecay: '--weight-decay',
  schedule: '--schedule',
  warmup: '--warmup',
};

/**
 * The header's hyper-parameter part, e.g.
 * `batch 64, sgd lr 0.02 (momentum 0.9, weight decay 0.0005), schedule cosine, warm-up 1 epoch (vgg11 recipe; given: --lr)`.
 */
export function describeRecipe(r: ResolvedRecipe, lr: number, modelName: string): string {
  const f = r.flags;
  const opt = f.optimizer === 'sgd' ? `sgd lr ${lr} (momentum ${f.momentum}${f.nesterov ? ', Nesterov' : ''}, ` : `${f.optimizer} lr ${lr} (`;
  const head = `batch ${f.batch}, ${opt}weight decay ${f.weightDecay}), schedule ${f.schedule}, warm-up ${describeWarmup(f.warmup ?? '0')}`;
  const keys = (s: Source): string[] => RECIPE_KEYS.filter((k) => r.sources[k] === s).map((k) => FLAG_NAMES[k]);
  const notes = [
    r.modelHasRecipe ? `${modelName} recipe` : 'default recipe',
    ...(keys('checkpoint').length > 0 ? [`from the checkpoint: ${keys('checkpoint').join(' ')}`] : []),
    ...(keys('flag').length > 0 ? [`given: ${keys('flag').join(' ')}`] : []),
  ];
  return `${head} (${notes.join('; ')})`;
}
