/**
 * Pooling windows (shared with avgpool.ts) and max pooling over NCHW planes. Output size per axis: floor((H + 2·pad − k) / stride) + 1,
 * or with `ceil` ceil(…) + 1 minus one if the last window would start beyond
 * H + pad (PyTorch's ceil_mode). Padding must not exceed half the kernel (as in
 * PyTorch), so every window holds at least one real element.
 *
 *   MaxPool2d      y = max over the window (padding = −∞);  dx[argmax] += dy
 *                  (ties → the first maximum in row-major window order)
 *   AvgPool2d      y = Σ_window x / n  (padding counts as zeros), n = window size clipped to
 *                  the padded input (kH·kW unless a ceil-mode window overhangs);  dx[window] += dy / n
 *   GlobalAvgPool  [B,C,H,W] → [B,C], y = mean over H·W;  dx = dy / (H·W)
 */
import { Tensor } from '../../tensor/tensor.js';
import type { ActivationMemory } from '../memory/activation-memory.js';
import { SavedTensors } from '../memory/saved.js';
import { expectRank, type Layer, ParameterFreeLayer, Scratch } from './layer.js';

export interface PoolOptions {
  kH: number;
  kW: number;
  /** Default: the kernel size. */
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  /** Ceil instead of floor for the output size (default false). */
  ceil?: boolean;
}

/** A pooling window: kernel, stride, padding per axis, and the output rounding. */
export interface Window {
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  pH: number;
  pW: number;
  ceil: boolean;
}

export function makeWindow(type: string, name: string, o: PoolOptions): Window {
  const w = { kH: o.kH, kW: o.kW, sH: o.strideH ?? o.kH, sW: o.strideW ?? o.kW, pH: o.padH ?? 0, pW: o.padW ?? 0 };
  for (const [k, v] of Object.entries(w)) {
    if (!Number.isInteger(v) || v < 0 || (v === 0 && k[0] !== 'p')) {
      throw new RangeError(`${type} '${name}': ${k} must be a ${k[0] === 'p' ? 'non-negative' : 'positive'} integer, got ${v}`);
    }
  }
  if (2 * w.pH > w.kH || 2 * w.pW > w.kW) throw new RangeError(`${type} '${name}': padding must be at most half the kernel`);
  return { ...w, ceil: o.ceil === true };
}

/** Pooled length of one axis. */
function pooledLength(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = n + 2 * p - k;
  if (span < 0) return 0;
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= n + p) out--; // the last window must start inside the input or its left padding
  return out;
}

/** Per output row (or column) i of one axis: the window's input range [start, end) clipped to the input, and its extent clipped to the padded input. */
export interface AxisSpans {
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** min(i·s − p + k, n + p) − (i·s − p): the average's divisor factor for this axis. */
  readonly padded: Int32Array;
}

function axisSpans(out: number, n: number, k: number, s: number, p: number): AxisSpans {
  const start = new Int32Array(out);
  const end = new Int32Array(out);
  const padded = new Int32Array(out);
  for (let i = 0; i < out; i++) {
    const a = i * s - p;
    start[i] = a < 0 ? 0 : a;
    end[i] = a + k > n ? n : a + k;
    padded[i] = (a + k < n + p ? a + k : n + p) - a;
  }
  return { start, end, padded };
}

/** The window spans of every output row and column for an H×W input pooled to OH×OW. */
export function windowSpans(w: Window, H: number, W: number, OH: number, OW: number): { rows: AxisSpans; cols: AxisSpans } {
  return { rows: axisSpans(OH, H, w.kH, w.sH, w.pH), cols: axisSpans(OW, W, w.kW, w.sW, w.pW) };
}

export function pooledShape(type: string, name: string, w: Window, s: readonly number[]): number[] {
  if (s.length !== 3) throw new RangeError(`${type} '${name}': expected input [C,H,W], got [${s.join(',')}]`);
  const oh = pooledLength(s[1], w.kH, w.sH, w.pH, w.ceil);
  const ow = pooledLength(s[2], w.kW, w.sW, w.pW, w.ceil);
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${type} '${name}': window ${w.kH}×${w.kW} does not fit input ${s[1]}×${s[2]} (padding ${w.pH}×${w.pW})`);
  }
  return [s[0], oh, ow];
}

/** What MaxPool2d and AvgPool2d share: the window, the output shape, scratch buffers, the input shape for backward. */
export abstract class WindowPool extends ParameterFreeLayer implements Layer {
  readonly window: Window;
  protected readonly scratch = new Scratch();
  protected inShape: readonly number[] | null = null;

  constructor(
    readonly name: string,
    readonly type: 'maxpool' | 'avgpool',
    o: PoolOptions,
  ) {
    super();
    this.window = makeWindow(type, name, o);
  }

  abstract forward(x: Tensor, training: boolean): Tensor;
  abstract backward(dy: Tensor, needInputGrad: boolean): Tensor | null;

  attachMemory(m: ActivationMemory | null): void {
    this.scratch.attach(m?.pool ?? null);
  }

  outputShape(s: readonly number[]): number[] {
    return pooledShape(this.type, this.name, this.window, s);
  }

  /** [B, C, H, W, OH, OW] of a forward input (rank and geometry checked). */
  protected dims(x: Tensor): [number, number, number, number, number, number] {
    expectRank(this, x, 4);
    const [B, C, H, W] = x.shape;
    const [, OH, OW] = this.outputShape(x.shape.slice(1));
    return [B, C, H, W, OH, OW];
  }
}

export class MaxPool2d extends WindowPool {
  /** The argmax index of every output, for backward. */
  readonly saved: SavedTensors;

  constructor(name: string, o: PoolOptions) {
    super(name, 'maxpool', o);
    this.saved = new SavedTensors(name);
  }

  override attachMemory(m: ActivationMemory | null): void {
    super.attachMemory(m);
    this.saved.attach(m?.store ?? null);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    const [B, C, H, W, OH, OW] = this.dims(x);
    const { kH, kW, sH, sW, pH, pW } = this.window;
    const n = B * C * OH * OW;
    const y = this.scratch.get('y', n);
    const idx = this.scratch.getInt('idx', n);
    const xd = x.data;
    if (kH === 2 && kW === 2 && sH === 2 && sW === 2 && pH === 0 && pW === 0 && 2 * OH <= H && 2 * OW <= W) {
      maxPool2x2(xd, y, idx, B * C, H, W, OH, OW);
    } else {
      maxPoolAny(this.window, xd, y, idx, B * C, H, W, OH, OW);
    }
    this.saved.ownInt('idx', idx);
    this.inShape = x.shape;
    return new Tensor([B, C, OH, OW], y);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const shape = this.inShape;
    if (shape === null) throw new Error(`maxpool '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    const idx = this.saved.int('idx');
    const n = shape.reduce((a, b) => a * b, 1);
    const dx = this.scratch.get('dx', n);
    dx.fill(0);
    const g = dy.data;
    for (let o = 0; o < g.length; o++) dx[idx[o]] += g[o];
    return new Tensor(shape, dx);
  }
}

/** 2×2 stride-2 windows that all lie inside the input (the common case). */
function maxPool2x2(xd: Float32Array, y: Float32Array, idx: Int32Array, planes: number, H: number, W: number, OH: number, OW: number): void {
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const xb = plane * H * W;
    for (let p = 0; p < OH; p++) {
      const r0 = xb + 2 * p * W;
      for (let q = 0; q < OW; q++) {
        const c = r0 + 2 * q;
        let best = xd[c];
        let bi = c;
        const b = xd[c + 1];
        if (b > best) {
          best = b;
          bi = c + 1;
        }
        const d = xd[c + W];
        if (d > best) {
          best = d;
          bi = c + W;
        }
        const e = xd[c + W + 1];
        if (e > best) {
          best = e;
          bi = c + W + 1;
        }
        y[o] = best;
        idx[o] = bi;
        o++;
      }
    }
  }
}

/**
 * Any window geometry (windows clipped to the input). Both paths take the
 * window's first element and replace it only by strictly greater ones.
 */
function maxPoolAny(w: Window, xd: Float32Array, y: Float32Array, idx: Int32Array, planes: number, H: number, W: number, OH: number, OW: number): void {
  const { rows, cols } = windowSpans(w, H, W, OH, OW);
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const xb = plane * H * W;
    for (let p = 0; p < OH; p++) {
      const hs = rows.start[p];
      const he = rows.end[p];
      for (let q = 0; q < OW; q++) {
        const ws = cols.start[q];
        const we = cols.end[q];
        let bi = xb + hs * W + ws;
        let best = xd[bi];
        for (let h = hs; h < he; h++) {
          const row = xb + h * W;
          for (let c = row + ws; c < row + we; c++) {
            const v = xd[c];
            if (v > best) {
              best = v;
              bi = c;
            }
          }
        }
        y[o] = best;
        idx[o] = bi;
        o++;
      }
    }
  }
}
