/**
 * Per-channel sums in a fixed, vectorisable order: the contract between the reference
 * and the native kernels (native/src/nn_lanes.cc) that makes batch norm and the bias
 * gradient bit-identical between them.
 *
 * Channel c of x shaped [B, C, S] is B planes of S values. Eight float64 lanes l0 … l7
 * start at 0; lane k adds, in order, the terms at positions j ≡ k (mod 8) of plane 0,
 * then of plane 1, and so on. The sum is
 *
 *   ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)).
 *
 * (Eight lanes are two AVX2 registers of four doubles. The error bound is that of
 * recursive summation over ⌈N/8⌉ terms, slightly better than the plain loop.)
 */

/** The lanes' sum, in the order above. */
function combine(l0: number, l1: number, l2: number, l3: number, l4: number, l5: number, l6: number, l7: number): number {
  // prettier-ignore
  return ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7));
}

// The loops below keep the lanes in locals (twice as fast in V8 as a plain loop): full steps of
// 8 positions, then the last S mod 8 positions of the plane into lanes 0, 1, … one by one.

/** Σ x over channel c of [B, C, S]. */
export function channelSum(B: number, C: number, S: number, x: Float32Array, c: number): number {
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0; // prettier-ignore
  const tail = S % 8;
  for (let b = 0; b < B; b++) {
    const o = (b * C + c) * S;
    const full = o + S - tail;
    let j = o;
    for (; j < full; j += 8) {
      l0 += x[j];
      l1 += x[j + 1];
      l2 += x[j + 2];
      l3 += x[j + 3];
      l4 += x[j + 4];
      l5 += x[j + 5];
      l6 += x[j + 6];
      l7 += x[j + 7];
    }
    if (tail > 0) l0 += x[j];
    if (tail > 1) l1 += x[j + 1];
    if (tail > 2) l2 += x[j + 2];
    if (tail > 3) l3 += x[j + 3];
    if (tail > 4) l4 += x[j + 4];
    if (tail > 5) l5 += x[j + 5];
    if (tail > 6) l6 += x[j + 6];
  }
  return combine(l0, l1, l2, l3, l4, l5, l6, l7);
}

/** Σ (x − mean)² over channel c of [B, C, S] (each square rounded before it is added). */
export function channelSquaredDeviation(B: number, C: number, S: number, x: Float32Array, c: number, mean: number): number {
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0; // prettier-ignore
  const sq = (v: number): number => (v - mean) * (v - mean);
  const tail = S % 8;
  for (let b = 0; b < B; b++) {
    const o = (b * C + c) * S;
    const full = o + S - tail;
    let j = o;
    for (; j < full; j += 8) {
      l0 += sq(x[j]);
      l1 += sq(x[j + 1]);
      l2 += sq(x[j + 2]);
      l3 += sq(x[j + 3]);
      l4 += sq(x[j + 4]);
      l5 += sq(x[j + 5]);
      l6 += sq(x[j + 6]);
      l7 += sq(x[j + 7]);
    }
    if (tail > 0) l0 += sq(x[j]);
    if (tail > 1) l1 += sq(x[j + 1]);
    if (tail > 2) l2 += sq(x[j + 2]);
    if (tail > 3) l3 += sq(x[j + 3]);
    if (tail > 4) l4 += sq(x[j + 4]);
    if (tail > 5) l5 += sq(x[j + 5]);
    if (tail > 6) l6 += sq(x[j + 6]);
  }
  return combine(l0, l1, l2, l3, l4, l5, l6, l7);
}

/** [Σ dy, Σ xhat·dy] over channel c of [B, C, S], in one pass (xhat·dy is exact in float64). */
export function channelGradSums(B: number, C: number, S: number, dy: Float32Array, xhat: Float32Array, c: number): [number, number] {
  let d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0, d6 = 0, d7 = 0; // prettier-ignore
  let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0; // prettier-ignore
  const tail = S % 8;
  for (let b = 0; b < B; b++) {
    const o = (b * C + c) * S;
    const full = o + S - tail;
    let j = o;
    for (; j < full; j += 8) {
      d0 += dy[j];
      h0 += xhat[j] * dy[j];
      d1 += dy[j + 1];
      h1 += xhat[j + 1] * dy[j + 1];
      d2 += dy[j + 2];
      h2 += xhat[j + 2] * dy[j + 2];
      d3 += dy[j + 3];
      h3 += xhat[j + 3] * dy[j + 3];
      d4 += dy[j + 4];
      h4 += xhat[j + 4] * dy[j + 4];
      d5 += dy[j + 5];
      h5 += xhat[j + 5] * dy[j + 5];
      d6 += dy[j + 6];
      h6 += xhat[j + 6] * dy[j + 6];
      d7 += dy[j + 7];
      h7 += xhat[j + 7] * dy[j + 7];
    }
    if (tail > 0) {
      d0 += dy[j];
      h0 += xhat[j] * dy[j];
    }
    if (tail > 1) {
      d1 += dy[j + 1];
      h1 += xhat[j + 1] * dy[j + 1];
    }
    if (tail > 2) {
      d2 += dy[j + 2];
      h2 += xhat[j + 2] * dy[j + 2];
    }
    if (tail > 3) {
      d3 += dy[j + 3];
      h3 += xhat[j + 3] * dy[j + 3];
    }
    if (tail > 4) {
      d4 += dy[j + 4];
      h4 += xhat[j + 4] * dy[j + 4];
    }
    if (tail > 5) {
      d5 += dy[j + 5];
      h5 += xhat[j + 5] * dy[j + 5];
    }
    if (tail > 6) {
      d6 += dy[j + 6];
      h6 += xhat[j + 6] * dy[j + 6];
    }
  }
  return [combine(d0, d1, d2, d3, d4, d5, d6, d7), combine(h0, h1, h2, h3, h4, h5, h6, h7)];
}
