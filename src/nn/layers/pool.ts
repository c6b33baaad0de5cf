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

export function pooledShape(type: string, name: string, w: Window, s: readonly number[]): number[] {
  if (s.length !== 3) throw new RangeError(`${type} '${name}': expected input [C,H,W], got [${s.join(',')}]`);
  const oh = pooledLength(s[1], w.kH, w.sH, w.pH, w.ceil);
  const ow = pooledLength(s[2], w.kW, w.sW, w.pW, w.ceil);
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${type} '${name}': window ${w.kH}×${w.kW} does not fit input ${s[1]}×${s[2]} (padding ${w.pH}×${w.pW})`);
  }
  return [s[0], oh, ow];
}

export class MaxPool2d extends ParameterFreeLayer implements Layer {
  readonly type = 'maxpool';
  readonly window: Window;
  private readonly scratch = new Scratch();
  /** The argmax index of every output, for backward. */
  readonly saved: SavedTensors;
  private inShape: readonly number[] | null = null;

  constructor(
    readonly name: string,
    o: PoolOptions,
  ) {
    super();
    this.window = makeWindow(this.type, name, o);
    this.saved = new SavedTensors(name);
  }

  attachMemory(m: ActivationMemory | null): void {
    this.scratch.attach(m?.pool ?? null);
    this.saved.attach(m?.store ?? null);
  }

  outputShape(s: readonly number[]): number[] {
    return pooledShape(this.type, this.name, this.window, s);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    expectRank(this, x, 4);
    const [B, C, H, W] = x.shape;
    const [, OH, OW] = this.outputShape(x.shape.slice(1));
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
  const { kH, kW, sH, sW, pH, pW } = w;
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const xb = plane * H * W;
    for (let p = 0; p < OH; p++) {
      const h0 = p * sH - pH;
      const hs = h0 < 0 ? 0 : h0;
      const he = h0 + kH > H ? H : h0 + kH;
      for (let q = 0; q < OW; q++) {
        const w0 = q * sW - pW;
        const ws = w0 < 0 ? 0 : w0;
        const we = w0 + kW > W ? W : w0 + kW;
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
