/**
 * The addon's non-linear kernels (native/src/addon_nn*.cc) behind the NnKernels interface.
 * The addon checks every argument (TypeError / RangeError, never a crash) and refuses
 * outputs that share memory with another argument.
 */
import { loadNativeAddon } from '../../addon/addon.js';
import type { ChannelShape, NnKernels, PoolGeometry } from './types.js';

type F32 = Float32Array;
type F64 = Float64Array;

/** The addon's entry points (positional arguments; see native/README.md). */
export interface NnAddon {
  nnInfo(): { simd: 'avx2' | 'scalar'; cpuAvx2: boolean };
  /** Enables (if the CPU has AVX2) or disables the AVX2 loops; returns whether they run. For tests. */
  setNnSimd(enabled: boolean): boolean;
  reluForward(x: F32, y: F32): void;
  reluBackward(y: F32, dy: F32, dx: F32): void;
  accumulateF32(acc: F32, d: F32): void;
  isZeroF32(x: F32): boolean;
  multiplyF32(x: F32, m: F32, y: F32): void;
  addChannelBias(y: F32, b: F32, batch: number, channels: number, plane: number): void;
  reduceChannelBias(g: F32, dy: F32, batch: number, channels: number, plane: number): void;
  bnForwardTrain(B: number, C: number, S: number, eps: number, momentum: number, x: F32, gamma: F32, beta: F32, rm: F32, rv: F32, xhat: F32, y: F32, invStd: F64): void;
  bnForwardEval(B: number, C: number, S: number, eps: number, x: F32, gamma: F32, beta: F32, rm: F32, rv: F32, xhat: F32, y: F32, invStd: F64): void;
  bnBackward(B: number, C: number, S: number, trained: boolean, dy: F32, xhat: F32, gamma: F32, invStd: F64, dgamma: F32, dbeta: F32, dx: F32 | null): void;
  maxPoolForward(g: PoolGeometry, x: F32, y: F32, idx: Int32Array): void;
  maxPoolBackward(idx: Int32Array, dy: F32, dx: F32): void;
  avgPoolForward(g: PoolGeometry, x: F32, y: F32): void;
  avgPoolBackward(g: PoolGeometry, dy: F32, dx: F32): void;
  globalAvgPoolForward(planes: number, hw: number, x: F32, y: F32): void;
  globalAvgPoolBackward(planes: number, hw: number, dy: F32, dx: F32): void;
  sgdUpdate(w: F32, g: F32, buf: F32 | null, lr: number, momentum: number, dampFactor: number, weightDecay: number, first: boolean, nesterov: boolean): void;
  adamUpdate(w: F32, g: F32, m: F32, v: F32, beta1: number, beta2: number, eps: number, l2: number, shrink: number, stepSize: number, sqrtBc2: number): void;
}

const ENTRY_POINTS: readonly (keyof NnAddon)[] = [
  'nnInfo', 'setNnSimd', 'reluForward', 'reluBackward', 'accumulateF32', 'isZeroF32', 'multiplyF32', 'addChannelBias', 'reduceChannelBias',
  'bnForwardTrain', 'bnForwardEval', 'bnBackward', 'maxPoolForward', 'maxPoolBackward', 'avgPoolForward', 'avgPoolBackward',
  'globalAvgPoolForward', 'globalAvgPoolBackward', 'sgdUpdate', 'adamUpdate',
]; // prettier-ignore

export type NnAddonLoad = { readonly ok: true; readonly addon: NnAddon } | { readonly ok: false; readonly reason: string };

/** The addon's non-linear entry points, or why they cannot be used (not built, disabled, outdated). */
export function loadNnAddon(): NnAddonLoad {
  const l = loadNativeAddon();
  if (!l.ok) return l;
  const mod = l.addon as unknown as Partial<NnAddon>;
  const missing = ENTRY_POINTS.filter((k) => typeof mod[k] !== 'function');
  if (missing.length > 0) return { ok: false, reason: `the @goten/native addon has no ${missing[0]} (outdated build; run \`npm rebuild @goten/native\`)` };
  return { ok: true, addon: mod as NnAddon };
}

/** NnKernels over the addon `a`. */
export function createNativeNnKernels(a: NnAddon): NnKernels {
  const shape = (s: ChannelShape): [number, number, number] => [s.batch, s.channels, s.spatial];
  return Object.freeze({
    name: 'native',
    reluForward: (x, y) => a.reluForward(x, y),
    reluBackward: (y, dy, dx) => a.reluBackward(y, dy, dx),
    accumulate: (acc, d) => a.accumulateF32(acc, d),
    isZero: (x) => a.isZeroF32(x),
    multiply: (x, m, y) => a.multiplyF32(x, m, y),
    addChannelBias: (y, b, batch, channels, plane) => a.addChannelBias(y, b, batch, channels, plane),
    reduceChannelBias: (g, dy, batch, channels, plane) => a.reduceChannelBias(g, dy, batch, channels, plane),
    bnForwardTrain: (s, eps, momentum, x, gamma, beta, rm, rv, xhat, y, invStd) => a.bnForwardTrain(...shape(s), eps, momentum, x, gamma, beta, rm, rv, xhat, y, invStd),
    bnForwardEval: (s, eps, x, gamma, beta, rm, rv, xhat, y, invStd) => a.bnForwardEval(...shape(s), eps, x, gamma, beta, rm, rv, xhat, y, invStd),
    bnBackward: (s, trained, dy, xhat, gamma, invStd, dgamma, dbeta, dx) => a.bnBackward(...shape(s), trained, dy, xhat, gamma, invStd, dgamma, dbeta, dx),
    maxPoolForward: (g, x, y, idx) => a.maxPoolForward(g, x, y, idx),
    maxPoolBackward: (idx, dy, dx) => a.maxPoolBackward(idx, dy, dx),
    avgPoolForward: (g, x, y) => a.avgPoolForward(g, x, y),
    avgPoolBackward: (g, dy, dx) => a.avgPoolBackward(g, dy, dx),
    globalAvgPoolForward: (planes, hw, x, y) => a.globalAvgPoolForward(planes, hw, x, y),
    globalAvgPoolBackward: (planes, hw, dy, dx) => a.globalAvgPoolBackward(planes, hw, dy, dx),
    sgdUpdate: (s, w, g, buf) => a.sgdUpdate(w, g, buf, s.lr, s.momentum, s.dampFactor, s.weightDecay, s.first, s.nesterov),
    adamUpdate: (s, w, g, m, v) => a.adamUpdate(w, g, m, v, s.beta1, s.beta2, s.eps, s.l2, s.shrink, s.stepSize, s.sqrtBc2),
  } satisfies NnKernels);
}
