/**
 * `goten train`: what the user sees when the divergence guard stops a run —
 * one message on stderr (what happened, where, which --lr to try, what became
 * of the checkpoint) and, with --json, one `{"event": "diverged", …}` object
 * on stdout. The exit status is DIVERGED_EXIT, distinct from other errors (1).
 */
import { existsSync } from 'node:fs';
import { type DivergenceError, suggestLr } from '../nn/divergence.js';
import type { Sealer } from '../tee/seal.js';
import { loadCheckpointFile } from './checkpoint-io.js';
import type { ResolvedRecipe } from './train-defaults.js';

export const DIVERGED_EXIT = 3;

export interface DivergenceContext {
  /** The run's base learning rate. */
  lr: number;
  /** Where the run's settings came from (the model recipe's rate is the first suggestion). */
  recipe: ResolvedRecipe;
  modelName: string;
  /** --save path, if any. */
  save?: string;
  sealerOf: () => Promise<Sealer>;
}

/** The checkpoint on disk after the run stopped (the trainer writes none while the loss is diverging). */
async function keptCheckpoint(path: string | undefined, sealerOf: () => Promise<Sealer>): Promise<{ epoch: number; step: number } | string | null> {
  if (path === undefined || !existsSync(path)) return null;
  try {
    const c = await loadCheckpointFile(path, sealerOf);
    return { epoch: c.info.epoch, step: c.info.step };
  } catch (e) {
    return `cannot be read back: ${(e as Error).message}`;
  }
}

/** Writes the report; returns the exit status to use. */
export async function reportDivergence(e: DivergenceError, ctx: DivergenceContext, json: boolean): Promise<number> {
  const { recipeLr, modelHasRecipe } = ctx.recipe;
  const suggested = suggestLr(ctx.lr, recipeLr);
  const why = suggested !== recipeLr ? `about a quarter of ${ctx.lr}` : modelHasRecipe ? `the ${ctx.modelName} recipe's rate` : 'the default rate';
  const kept = await keptCheckpoint(ctx.save, ctx.sealerOf);
  const ck =
    ctx.save === undefined
      ? ''
      : kept === null
        ? ` No checkpoint was written to ${ctx.save}.`
        : typeof kept === 'string'
          ? ` The checkpoint ${ctx.save} ${kept}.`
          : ` The last good checkpoint, ${ctx.save} (epoch ${kept.epoch}, step ${kept.step}), was left as it was.`;
  const message = `${e.message}. Try a lower learning rate: --lr ${suggested} (${why}).${ck}`;
  if (json) {
    const v = e.verdict;
    const event = {
      event: 'diverged',
      reason: v.reason,
      step: v.step,
      epoch: e.at.epoch,
      batch: e.at.batch,
      lr: e.at.lr,
      loss: Number.isFinite(v.loss) ? v.loss : String(v.loss),
      smoothedLoss: Number.isFinite(v.smoothed) ? v.smoothed : null,
      bestLoss: Number.isFinite(v.best) ? v.best : null,
      suggestedLr: suggested,
      checkpoint: ctx.save === undefined || kept === null || typeof kept === 'string' ? null : { path: ctx.save, ...kept },
      message,
    };
    process.stdout.write(JSON.stringify(event) + '\n');
  }
  process.stderr.write(`goten: ${message}\n`);
  return DIVERGED_EXIT;
}
