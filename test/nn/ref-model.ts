/**
 * A float64 interpreter of a built model: walks its Layer instances and
 * evaluates each with the direct-loop references from helpers.ts, reading
 * parameters from a name → Float64Array map (so finite differences can perturb
 * them). Independent of the layers' own forward/backward code.
 */
import { BatchNorm } from '../../src/nn/layers/batchnorm.js';
import { Conv2d } from '../../src/nn/layers/conv2d.js';
import { Dropout } from '../../src/nn/layers/dropout.js';
import { Flatten } from '../../src/nn/layers/flatten.js';
import type { Layer } from '../../src/nn/layers/layer.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { AvgPool2d, GlobalAvgPool } from '../../src/nn/layers/avgpool.js';
import { MaxPool2d } from '../../src/nn/layers/pool.js';
import { ReLU } from '../../src/nn/layers/relu.js';
import { Residual } from '../../src/nn/layers/residual.js';
import { bnEvalRef, bnTrainRef, convOut, convRef, linearRef, poolRef } from './helpers.js';

export type ParamMap = Map<string, Float64Array>;

interface Value {
  x: Float64Array;
  shape: number[];
}

function get(P: ParamMap, name: string): Float64Array {
  const v = P.get(name);
  if (v === undefined) throw new Error(`ref-model: no parameter ${name}`);
  return v;
}

function refLayer(l: Layer, v: Value, P: ParamMap, training: boolean): Value {
  const { x, shape } = v;
  const B = shape[0];
  if (l instanceof Conv2d) {
    const g = { B, C: shape[1], H: shape[2], W: shape[3], O: l.outC, kH: l.kH, kW: l.kW, sH: l.strideH, sW: l.strideW, pH: l.padH, pW: l.padW };
    const [OH, OW] = convOut(g);
    return { x: convRef(g, x, get(P, l.weight.name), l.bias ? get(P, l.bias.name) : null), shape: [B, l.outC, OH, OW] };
  }
  if (l instanceof Linear) {
    return { x: linearRef(B, l.inF, l.outF, x, get(P, l.weight.name), l.bias ? get(P, l.bias.name) : null), shape: [B, l.outF] };
  }
  if (l instanceof ReLU) return { x: x.map((t) => Math.max(t, 0)), shape };
  if (l instanceof Flatten) return { x, shape: [B, x.length / B] };
  if (l instanceof Dropout) {
    if (training && l.p > 0) throw new Error('ref-model: dropout is random in training mode');
    return v;
  }
  if (l instanceof MaxPool2d || l instanceof AvgPool2d) {
    const w = l.window;
    const r = poolRef(l instanceof MaxPool2d ? 'max' : 'avg', B * shape[1], shape[2], shape[3], { kH: w.kH, kW: w.kW, sH: w.sH, sW: w.sW, pH: w.pH, pW: w.pW, ceil: w.ceil }, x);
    return { x: r.y, shape: [B, shape[1], r.OH, r.OW] };
  }
  if (l instanceof GlobalAvgPool) {
    const hw = shape[2] * shape[3];
    const y = new Float64Array(B * shape[1]);
    for (let i = 0; i < y.length; i++) for (let j = 0; j < hw; j++) y[i] += x[i * hw + j] / hw;
    return { x: y, shape: [B, shape[1]] };
  }
  if (l instanceof BatchNorm) {
    const C = shape[1];
    const S = x.length / (B * C);
    const gamma = get(P, l.weight.name);
    const beta = get(P, l.bias.name);
    const y = training ? bnTrainRef(B, C, S, x, gamma, beta, l.eps).y : bnEvalRef(B, C, S, x, gamma, beta, l.runningMean.value, l.runningVar.value, l.eps);
    return { x: y, shape };
  }
  if (l instanceof Residual) {
    const a = refChain(l.body, v, P, training);
    const s = refChain(l.shortcut, v, P, training);
    return { x: a.x.map((t, i) => t + s.x[i]), shape: a.shape };
  }
  throw new Error(`ref-model: no reference for layer type ${l.type}`);
}

export function refChain(layers: readonly Layer[], v: Value, P: ParamMap, training: boolean): Value {
  let h = v;
  for (const l of layers) h = refLayer(l, h, P, training);
  return h;
}
