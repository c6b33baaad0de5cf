/**
 * The workloads of `goten bench kernels` and the interleaved timer.
 *
 * GFLOP/s = 2·m·n·k / time for every op; a conv counts as its im2col GEMM
 * (m = N·OH·OW output positions, k = C·kH·kW, n = O output channels), so conv and
 * GEMM rows compare directly. Operands are drawn once per case and shared by all
 * backends; each backend writes its own output.
 */
import type { Backend } from '../src/backend/backend.js';
import { type ConvGeometry, convGeometry, convOutH, convOutW, convSizes } from '../src/tensor/geometry.js';
import { HALF, P } from '../src/field/prime.js';

/** A conv pass: forward, grad-input (gi) or grad-weight (gw). */
export type ConvPass = 'fwd' | 'gi' | 'gw';

export type KernelOp =
  | 'gemm-modp'
  | 'gemm-f32'
  | 'conv2d-modp'
  | 'conv2d-f32'
  | 'conv2d-gi-modp'
  | 'conv2d-gi-f32'
  | 'conv2d-gw-modp'
  | 'conv2d-gw-f32';

export interface KernelCase {
  readonly op: KernelOp;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** Allocates operands; returns per-backend runners and the output to cross-check. */
  prepare(): PreparedCase;
}

export interface PreparedCase {
  /** A closure that runs the op once on `be`, writing into an output of its own. */
  runner(be: Backend): { run: () => void; out: Int32Array | Float32Array };
}

/** The VGG-on-CIFAR layer of the reference measurements: batch 32, 128→128, 16×16, 3×3, pad 1. */
export const VGG_CONV: ConvGeometry = convGeometry({ batch: 32, inC: 128, inH: 16, inW: 16, outC: 128, k: 3, pad: 1 });
/** VGG-11's 512→512 layer at 4×4 (features.18), batch 32: float64 weights alone are 18.9 MB. */
export const VGG_CONV_DEEP: ConvGeometry = convGeometry({ batch: 32, inC: 512, inH: 4, inW: 4, outC: 512, k: 3, pad: 1 });

/** Deterministic xorshift32 in [0, 1), so every run times the same operands. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function centred(len: number, r: () => number): Int32Array {
  const v = new Int32Array(len);
  for (let i = 0; i < len; i++) v[i] = Math.floor(r() * P) - HALF;
  return v;
}

function unit(len: number, r: () => number): Float32Array {
  const v = new Float32Array(len);
  for (let i = 0; i < len; i++) v[i] = 2 * r() - 1;
  return v;
}

function gemmCase(op: 'gemm-modp' | 'gemm-f32', m: number, k: number, n: number): KernelCase {
  return {
    op,
    m,
    k,
    n,
    prepare() {
      const r = rng(m * 7 + k * 13 + n);
      const s = { m, k, n };
      if (op === 'gemm-modp') {
        const a = centred(m * k, r);
        const b = centred(k * n, r);
        return {
          runner(be) {
            const out = new Int32Array(m * n);
            return { run: () => be.gemmModP(s, a, b, out), out };
          },
        };
      }
      const a = unit(m * k, r);
      const b = unit(k * n, r);
      return {
        runner(be) {
          const out = new Float32Array(m * n);
          return { run: () => be.gemmF32(s, a, b, out), out };
        },
      };
    },
  };
}

function convOp(pass: ConvPass, modP: boolean): KernelOp {
  return `conv2d-${pass === 'fwd' ? '' : pass + '-'}${modP ? 'modp' : 'f32'}` as KernelOp;
}

/**
 * One conv pass: forward y = conv(x, w), grad-input dx from (dy, w), grad-weight
 * dw from (dy, x); all three are the same GEMM size.
 */
function convCase(pass: ConvPass, modP: boolean, g: ConvGeometry): KernelCase {
  const sz = convSizes(g);
  // [first operand length, second operand length, output length] of the pass.
  const lens = pass === 'fwd' ? [sz.input, sz.weight, sz.output] : pass === 'gi' ? [sz.output, sz.weight, sz.input] : [sz.output, sz.input, sz.weight];
  return {
    op: convOp(pass, modP),
    m: g.batch * convOutH(g) * convOutW(g),
    k: sz.patch,
    n: g.outC,
    prepare() {
      const r = rng(sz.input + sz.weight + lens[0]);
      if (modP) {
        const a = centred(lens[0], r);
        const b = centred(lens[1], r);
        const kernel = pass === 'fwd' ? 'conv2dModP' : pass === 'gi' ? 'conv2dGradInputModP' : 'conv2dGradWeightModP';
        return {
          runner(be) {
            const out = new Int32Array(lens[2]);
            return { run: () => be[kernel](g, a, b, out), out };
          },
        };
      }
      const a = unit(lens[0], r);
      const b = unit(lens[1], r);
      const kernel = pass === 'fwd' ? 'conv2dF32' : pass === 'gi' ? 'conv2dGradInputF32' : 'conv2dGradWeightF32';
      return {
        runner(be) {
          const out = new Float32Array(lens[2]);
          return { run: () => be[kernel](g, a, b, out), out };
        },
      };
    },
  };
}

/** GEMM shapes m×k×n of the issue: three squares and the VGG 3×3×512 reduction. */
export const GEMM_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [512, 512, 512],
  [1024, 1024, 1024],
  [2048, 2048, 2048],
  [256, 4608, 512],
];

const PASSES: readonly ConvPass[] = ['fwd', 'gi', 'gw'];

/**
 * All cases; `quick` drops 2048³ (several seconds per call on js) and the deep
 * layer. Convs: the three passes of VGG_CONV mod P and float32, and of
 * VGG_CONV_DEEP mod P (the layer whose float64 weights exceed the default
 * native workspace limit).
 */
export function kernelCases(quick: boolean): KernelCase[] {
  const shapes = GEMM_SHAPES.filter(([m]) => !quick || m < 2048);
  return [
    ...shapes.map(([m, k, n]) => gemmCase('gemm-modp', m, k, n)),
    ...shapes.map(([m, k, n]) => gemmCase('gemm-f32', m, k, n)),
    ...PASSES.map((p) => convCase(p, true, VGG_CONV)),
    ...PASSES.map((p) => convCase(p, false, VGG_CONV)),
    ...(quick ? [] : PASSES.map((p) => convCase(p, true, VGG_CONV_DEEP))),
  ];
}

export interface TimingPlan {
  /** Minimum warm-up wall time per backend and case (V8 tier-up), seconds. */
  readonly warmSeconds: number;
  /** Timed work to aim for per backend and case, seconds. */
  readonly targetSeconds: number;
  readonly minReps: number;
  readonly maxReps: number;
  /**
   * Run every timed call right after an untimed one of the same runner. For runners
   * that share per-thread state, such as native backends with different workspace
   * limits (each call first shrinks the thread's workspace to its own limit, so the
   * next runner would time re-allocating and first-touching its buffers).
   */
  readonly rewarm?: boolean;
}

export const FULL_PLAN: TimingPlan = { warmSeconds: 1.0, targetSeconds: 1.5, minReps: 3, maxReps: 9 };
export const QUICK_PLAN: TimingPlan = { warmSeconds: 0.3, targetSeconds: 0.5, minReps: 3, maxReps: 5 };

/**
 * Median seconds per call of each runner. Warm-up: at least two calls and
 * warmSeconds, except that one call suffices when it alone took > 2 s. Then
 * rounds run every backend once, in turn, so that machine noise hits all of them
 * alike; a backend stops after its rep count (from its warm-up speed, capped, and
 * at least 1 for calls slower than 2 s, so the slow js GEMMs stay affordable).
 */
export function timeInterleaved(runs: ReadonlyArray<() => void>, plan: TimingPlan): { median: number; reps: number }[] {
  const reps = runs.map((run) => {
    const t0 = performance.now();
    let calls = 0;
    let elapsed = 0;
    do {
      run();
      calls++;
      elapsed = (performance.now() - t0) / 1000;
    } while ((calls < 2 && elapsed <= 2) || elapsed < plan.warmSeconds);
    const per = elapsed / calls;
    const want = Math.round(plan.targetSeconds / per);
    return Math.max(per > 2 ? 1 : plan.minReps, Math.min(plan.maxReps, want));
  });
  const times: number[][] = runs.map(() => []);
  for (let round = 0; round < Math.max(...reps); round++) {
    runs.forEach((run, i) => {
      if (round >= reps[i]) return;
      if (plan.rewarm) run();
      const t0 = performance.now();
      run();
      times[i].push((performance.now() - t0) / 1000);
    });
  }
  return times.map((t, i) => {
    const s = [...t].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, reps: reps[i] };
  });
}
