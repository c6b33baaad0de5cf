/**
 * Reference kernels (the specification the native ones match bit for bit, see types.ts):
 * ReLU, accumulate, multiply and the per-channel bias of conv/linear layers.
 *
 *   ReLU forward   y = max(x, 0)     branchless on the IEEE-754 bits: y = x & ~(x >> 31)
 *                                    (sign bit set → +0, else x unchanged)
 *   ReLU backward  dx = dy · [y > 0]  dx = dy & ((−y) >> 31)  (y ≥ 0, so y > 0 ⇔ its bits are a positive int)
 *   accumulate     acc += d;   multiply  y = x ⊙ m;   addChannelBias  y[n, c, ·] += b[c]
 *   reduceChannelBias  g[c] += Σ_n Σ_i dy[n, c, i]  (float64, lane order of lanes.ts)
 *
 * The sub-gradient of ReLU at 0 is 0, as in PyTorch and Goten's enclave.
 */
import { channelSum } from './lanes.js';

/** The Int32 view of a float buffer's bits. */
function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

export function reluForward(x: Float32Array, y: Float32Array): void {
  const xi = bits(x);
  const yi = bits(y);
  for (let i = 0; i < yi.length; i++) {
    const v = xi[i];
    yi[i] = v & ~(v >> 31);
  }
}

export function reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const yi = bits(y);
  const gi = bits(dy);
  const di = bits(dx);
  for (let i = 0; i < di.length; i++) di[i] = gi[i] & (-yi[i] >> 31);
}

/** Whether every x[i] is ±0 (the bits without the sign are all zero). */
export function isZero(x: Float32Array): boolean {
  const b = new Int32Array(x.buffer, x.byteOffset, x.length);
  let any = 0;
  for (let i = 0; i < b.length; i++) any |= b[i];
  return (any & 0x7fffffff) === 0;
}

export function accumulate(acc: Float32Array, d: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += d[i];
}

export function multiply(x: Float32Array, m: Float32Array, y: Float32Array): void {
  for (let i = 0; i < y.length; i++) y[i] = x[i] * m[i];
}

export function addChannelBias(y: Float32Array, b: Float32Array, batch: number, channels: number, plane: number): void {
  let off = 0;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const v = b[c];
      const end = off + plane;
      for (let i = off; i < end; i++) y[i] += v;
      off = end;
    }
  }
}

export function reduceChannelBias(g: Float32Array, dy: Float32Array, batch: number, channels: number, plane: number): void {
  for (let c = 0; c < channels; c++) g[c] += channelSum(batch, channels, plane, dy, c);
}
