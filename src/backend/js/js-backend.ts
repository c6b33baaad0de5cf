/**
 * The pure-TypeScript reference backend. Slow (3–6 GFLOP/s here, against
 * 45–90 for the native OpenBLAS addon) but dependency-free and exact: every
 * kernel accumulates in float64, and the mod-P kernels are exact for any K.
 *
 * Each instance owns its scratch buffers (reused across calls, grown on
 * demand), so one instance must not be used from two threads at once.
 *
 * Arguments are validated on every call: shapes must be non-negative integers,
 * conv geometries must pass validateConvGeometry, every buffer must have
 * exactly the length its shape implies, outputs must not share memory with
 * inputs, and mod-P operands must be centred.
 */
import type { Backend, GemmShape } from '../backend.js';
import { type ConvGeometry, convSizes, validateConvGeometry } from '../../tensor/geometry.js';
import { checkCentred, checkGemm, checkLength, checkNoOverlap } from './check.js';
import { convForward, convGradInput, convGradWeight, f32Flavor, modPFlavor } from './conv.js';
import type { GemmDims } from './gemm-core.js';
import { gemmF32Into } from './gemm-f32.js';
import { gemmModPInto } from './gemm-modp.js';
import { Scratch } from './scratch.js';

function gemmDims(s: GemmShape): GemmDims {
  return { m: s.m, k: s.k, n: s.n, transA: s.transA === true, transB: s.transB === true };
}

type Buf = Float32Array | Int32Array;

/** Validates a geometry and the three buffers (two operands, then the output) of one conv kernel. */
function checkConv(
  kernel: string,
  g: ConvGeometry,
  bufs: readonly [
    readonly [string, Buf, 'input' | 'weight' | 'output'],
    readonly [string, Buf, 'input' | 'weight' | 'output'],
    readonly [string, Buf, 'input' | 'weight' | 'output'],
  ],
): void {
  try {
    validateConvGeometry(g);
  } catch (e) {
    throw new RangeError(`${kernel}: ${(e as Error).message}`);
  }
  const sz = convSizes(g);
  const formula = {
    input: `N·C·H·W (${g.batch}·${g.inC}·${g.inH}·${g.inW})`,
    weight: `O·C·kH·kW (${g.outC}·${g.inC}·${g.kH}·${g.kW})`,
    output: `N·O·OH·OW (${g.batch}·${g.outC}·OH·OW)`,
  };
  for (const [name, buf, role] of bufs) checkLength(kernel, name, buf, sz[role], formula[role]);
  checkNoOverlap(kernel, bufs[2][0], bufs[2][1], [
    [bufs[0][0], bufs[0][1]],
    [bufs[1][0], bufs[1][1]],
  ]);
}

function checkGemmBuffers(kernel: string, s: GemmShape, a: Buf, b: Buf, c: Buf): void {
  checkGemm(kernel, s, a, b, c);
  checkNoOverlap(kernel, 'c', c, [
    ['a', a],
    ['b', b],
  ]);
}

export function createJsBackend(): Backend {
  const scratch = new Scratch();
  const f32 = f32Flavor(scratch);
  const modP = modPFlavor(scratch);
  return {
    name: 'js',

    gemmF32(s, a, b, c, accumulate = false) {
      checkGemmBuffers('gemmF32', s, a, b, c);
      gemmF32Into(scratch, gemmDims(s), a, 0, b, 0, c, 0, accumulate);
    },

    gemmModP(s, a, b, c) {
      checkGemmBuffers('gemmModP', s, a, b, c);
      checkCentred('gemmModP', 'a', a);
      checkCentred('gemmModP', 'b', b);
      gemmModPInto(scratch, gemmDims(s), a, 0, b, 0, c, 0, false);
    },

    conv2dF32(g, x, w, y) {
      checkConv('conv2dF32', g, [['x', x, 'input'], ['w', w, 'weight'], ['y', y, 'output']]);
      convForward(f32, g, x, w, y);
    },

    conv2dGradInputF32(g, dy, w, dx) {
      checkConv('conv2dGradInputF32', g, [['dy', dy, 'output'], ['w', w, 'weight'], ['dx', dx, 'input']]);
      convGradInput(f32, scratch, g, dy, w, dx);
    },

    conv2dGradWeightF32(g, dy, x, dw) {
      checkConv('conv2dGradWeightF32', g, [['dy', dy, 'output'], ['x', x, 'input'], ['dw', dw, 'weight']]);
      convGradWeight(f32, g, dy, x, dw);
    },

    conv2dModP(g, x, w, y) {
      checkConv('conv2dModP', g, [['x', x, 'input'], ['w', w, 'weight'], ['y', y, 'output']]);
      checkCentred('conv2dModP', 'x', x);
      checkCentred('conv2dModP', 'w', w);
      convForward(modP, g, x, w, y);
    },

    conv2dGradInputModP(g, dy, w, dx) {
      checkConv('conv2dGradInputModP', g, [['dy', dy, 'output'], ['w', w, 'weight'], ['dx', dx, 'input']]);
      checkCentred('conv2dGradInputModP', 'dy', dy);
      checkCentred('conv2dGradInputModP', 'w', w);
      convGradInput(modP, scratch, g, dy, w, dx);
    },

    conv2dGradWeightModP(g, dy, x, dw) {
      checkConv('conv2dGradWeightModP', g, [['dy', dy, 'output'], ['x', x, 'input'], ['dw', dw, 'weight']]);
      checkCentred('conv2dGradWeightModP', 'dy', dy);
      checkCentred('conv2dGradWeightModP', 'x', x);
      convGradWeight(modP, g, dy, x, dw);
    },
  };
}
