/** Shared references for the field tests: exact BigInt residues and a seeded generator. */
import { HALF, P } from '../../src/field/prime.js';

const BP = BigInt(P);

/** Exact centred representative of an integer. */
export function centredBig(c: bigint): number {
  let r = ((c % BP) + BP) % BP;
  if (r > BigInt(HALF)) r -= BP;
  return Number(r);
}

/** Deterministic 32-bit generator (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const Z_999 = 3.090232; // standard normal 0.999 quantile
/** Upper α = 0.001 quantile of chi-square with k degrees of freedom (Wilson–Hilferty). */
export function chi2Threshold(k: number): number {
  const a = 2 / (9 * k);
  return k * (1 - a + Z_999 * Math.sqrt(a)) ** 3;
}
