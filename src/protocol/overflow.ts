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
export const HEADROOM_STEP = 2;
export const MAX_RETRIES = 3;

export class OverflowError extends Error {
  constructor(layer: string, pass: string, maxAbs: number) {
    super(
      `linear op ${layer}/${pass}: result still reaches the wrap-around guard band (max |C| = ${maxAbs}) ` +
        `after ${MAX_RETRIES} re-quantizations with more headroom; the operands' magnitudes are not representable`,
    );
    this.name = 'OverflowError';
  }
}
