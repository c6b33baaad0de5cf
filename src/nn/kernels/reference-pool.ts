/**
 * Reference pooling kernels over NCHW planes (geometry in types.ts PoolGeometry; the layers
 * and their output-size rules are in ../layers/pool.ts and avgpool.ts):
 *
 *   max       y = max over the window (padding never wins);  idx = flat input index of the
 *             first maximum in row-major window order;  backward dx = 0, dx[idx[o]] += dy[o]
 *   avg       y = (Σ_window x) / n, the sum float64 in row-major order, n = window extent within
 *             the padded input (rows × columns);  backward dx = 0, dx[window] += dy / n (float64 v)
 *   global    [planes, hw] → [planes]: y = (Σ x)·(1/hw);  backward dx[plane, ·] = dy·(1/hw)
 */
import type { PoolGeometry } from './types.js';

/** Per output row (or column) i of one axis: the window's input range [start, end) and its padded extent. */
interface AxisSpans {
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** min(a + k, n + pad) − a with a = i·s − pad: the average's divisor factor for this axis. */
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

function spans(g: PoolGeometry): { rows: AxisSpans; cols: AxisSpans } {
  return { rows: axisSpans(g.outH, g.inH, g.kH, g.strideH, g.padH), cols: axisSpans(g.outW, g.inW, g.kW, g.strideW, g.padW) };
}

export function maxPoolForward(g: PoolGeometry, x: Float32Array, y: Float32Array, idx: Int32Array): void {
  const { kH, kW, strideH, strideW, padH, padW, inH: H, inW: W, outH: OH, outW: OW } = g;
  if (kH === 2 && kW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0 && 2 * OH <= H && 2 * OW <= W) {
    maxPool2x2(x, y, idx, g.planes, H, W, OH, OW);
  } else {
    maxPoolAny(g, x, y, idx);
  }
}

/** 2×2 stride-2 windows that all lie inside the input (the common case; same result as maxPoolAny). */
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

/** Any window geometry: the window's first element, replaced only by strictly greater ones. */
function maxPoolAny(g: PoolGeometry, xd: Float32Array, y: Float32Array, idx: Int32Array): void {
  const { rows, cols } = spans(g);
  const { inH: H, inW: W, outH: OH, outW: OW } = g;
  let o = 0;
  for (let plane = 0; plane < g.planes; plane++) {
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

export function maxPoolBackward(idx: Int32Array, dy: Float32Array, dx: Float32Array): void {
  dx.fill(0);
  for (let o = 0; o < dy.length; o++) dx[idx[o]] += dy[o];
}

export function avgPoolForward(g: PoolGeometry, x: Float32Array, y: Float32Array): void {
  const { rows, cols } = spans(g);
  const { inH: H, inW: W, outH: OH, outW: OW } = g;
  let o = 0;
  for (let plane = 0; plane < g.planes; plane++) {
    const xb = plane * H * W;
    for (let p = 0; p < OH; p++) {
      for (let q = 0; q < OW; q++) {
        let s = 0;
        for (let h = rows.start[p]; h < rows.end[p]; h++) {
          const row = xb + h * W;
          for (let c = row + cols.start[q]; c < row + cols.end[q]; c++) s += x[c];
        }
        y[o++] = s / (rows.padded[p] * cols.padded[q]);
      }
    }
  }
}

export function avgPoolBackward(g: PoolGeometry, dy: Float32Array, dx: Float32Array): void {
  const { rows, cols } = spans(g);
  const { inH: H, inW: W, outH: OH, outW: OW } = g;
  dx.fill(0);
  let o = 0;
  for (let plane = 0; plane < g.planes; plane++) {
    const xb = plane * H * W;
    for (let p = 0; p < OH; p++) {
      for (let q = 0; q < OW; q++) {
        const v = dy[o++] / (rows.padded[p] * cols.padded[q]);
        for (let h = rows.start[p]; h < rows.end[p]; h++) {
          const row = xb + h * W;
          for (let c = row + cols.start[q]; c < row + cols.end[q]; c++) dx[c] += v;
        }
      }
    }
  }
}

export function globalAvgPoolForward(planes: number, hw: number, x: Float32Array, y: Float32Array): void {
  const inv = 1 / hw;
  for (let plane = 0; plane < planes; plane++) {
    let s = 0;
    const end = (plane + 1) * hw;
    for (let i = plane * hw; i < end; i++) s += x[i];
    y[plane] = s * inv;
  }
}

export function globalAvgPoolBackward(planes: number, hw: number, dy: Float32Array, dx: Float32Array): void {
  const inv = 1 / hw;
  for (let plane = 0; plane < planes; plane++) dx.fill(dy[plane] * inv, plane * hw, (plane + 1) * hw);
}
