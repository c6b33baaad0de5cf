/**
 * Detected wrap-around and its recovery, shared by the quantized reference and
 * the secure protocol so both take identical decisions.
 *
 * An op attempt quantizes its operands with `headroom` extra bits of shift
 * (q = floor(x·2^(6 − e − headroom) + g), i.e. exponent e + headroom), which
 * shrinks the plaintext product by 4^headroom. When reconstruction flags the
 * result (reconstruct.ts: |C| ≥ GUARD), the op is re-run as a new attempt (fresh
 * masks and noise) with HEADROOM_STEP more bits, at most MAX_RETRIES times.
 */
import { GUARD } from './reconstruct.js';

export const HEADROOM_STEP = 2;
export const MAX_RETRIES = 3;

/** Extra bits of shift for attempt `retry` (0-based) of an op. */
export function headroomFor(retry: number): number {
  return retry * HEADROOM_STEP;
}

/**
 * The rule both executors apply after attempt `retry` of an op with result magnitude `maxAbs`:
 * true when the result stands (|C| < GUARD); false when it was flagged (counted in `stats.overflows`)
 * and the op must run again; OverflowError after the last allowed retry.
 */
export function resultStands(retry: number, maxAbs: number, stats: { overflows: number }, layer: string, pass: string): boolean {
  if (maxAbs < GUARD) return true;
  stats.overflows++;
  if (retry === MAX_RETRIES) throw new OverflowError(layer, pass, maxAbs);
  return false;
}

/**
 * An op's attempts under the rule above, shared by the quantized reference and the secure executor so both
 * retry identically: `attempt(headroom)` runs one attempt with that many extra bits of shift and returns
 * max |C|; a flagged result runs the next attempt with HEADROOM_STEP more. Synchronous attempts give a
 * synchronous loop (the quantized executor), asynchronous ones a promise.
 */
export function withOverflowRetry(attempt: (headroom: number) => number, stats: { overflows: number }, layer: string, pass: string): void;
export function withOverflowRetry(attempt: (headroom: number) => Promise<number>, stats: { overflows: number }, layer: string, pass: string): Promise<void>;
export function withOverflowRetry(
  attempt: (headroom: number) => number | Promise<number>,
  stats: { overflows: number },
  layer: string,
  pass: string,
): void | Promise<void> {
  const from = (retry: number): void | Promise<void> => {
    const decide = (maxAbs: number) => (resultStands(retry, maxAbs, stats, layer, pass) ? undefined : from(retry + 1));
    const r = attempt(headroomFor(retry));
    return typeof r === 'number' ? decide(r) : r.then(decide);
  };
  return from(0);
}

export class OverflowError extends Error {
  constructor(layer: string, pass: string, maxAbs: number) {
    super(
      `linear op ${layer}/${pass}: result still reaches the wrap-around guard band (max |C| = ${maxAbs}) ` +
        `after ${MAX_RETRIES} re-quantizations with more headroom; the operands' magnitudes are not representable`,
    );
    this.name = 'OverflowError';
  }
}
