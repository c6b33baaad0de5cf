/**
 * Builds layers from a validated ModelConfig for a given per-sample input
 * shape: channel and feature counts are inferred by walking the shapes,
 * conv/linear op sites get OpTags in forward order, and weights are
 * initialised from the model's Rng in that same order (deterministic per seed).
 */
import type { OpTag } from '../executor.js';
import type { WeightInit } from '../init.js';
import { BatchNorm } from '../layers/batchnorm.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import type { Layer } from '../layers/layer.js';
import { Linear } from '../layers/linear.js';
import { AvgPool2d, GlobalAvgPool } from '../layers/avgpool.js';
import { MaxPool2d } from '../layers/pool.js';
import { ReLU } from '../layers/relu.js';
import { Residual } from '../layers/residual.js';
import type { ModelContext } from '../model.js';
import { type LayerSpec, type ModelConfig, pair } from './config.js';

interface BuildState {
  readonly ctx: ModelContext;
  readonly config: ModelConfig;
  readonly numClasses: number;
  readonly names: Set<string>;
  nextTag: number;
}

function layerName(st: BuildState, parent: string, spec: LayerSpec, dflt: string): string {
  const local = spec.name ?? dflt;
  const full = parent === '' ? local : `${parent}.${local}`;
  if (st.names.has(full)) throw new RangeError(`model config: duplicate layer name '${full}'`);
  st.names.add(full);
  return full;
}

function newTag(st: BuildState, layer: string): OpTag {
  return { layer, index: st.nextTag++ };
}

/** The config's weight initialisation, applied by each conv/linear layer as it is constructed (in forward order). */
function weightInit(st: BuildState): WeightInit {
  return { kind: st.config.init ?? 'kaiming-normal', ...(st.config.initGain === undefined ? {} : { gain: st.config.initGain }) };
}

/** The most elements one tensor of a layer may have here (4 GiB of float32; V8 refuses much more anyway). */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/** A clear error naming the layer, instead of V8's "Invalid typed array length" from deep inside it. */
function checkSize(layer: string, what: string, n: number): void {
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new RangeError(`layer '${layer}': ${n.toExponential(2)} ${what}, more than the ${MAX_TENSOR_ELEMENTS} elements one tensor may have; make the layer smaller`);
  }
}

/** Builds one chain; returns its layers and output shape. */
function buildChain(
  st: BuildState,
  specs: readonly LayerSpec[],
  parent: string,
  prefix: string,
  inShape: readonly number[],
): { layers: Layer[]; shape: number[] } {
  const layers: Layer[] = [];
  let shape = inShape.slice();
  const decayAll = st.config.decayAll ?? true;
  specs.forEach((spec, i) => {
    const name = layerName(st, parent, spec, `${prefix}${i}`);
    let layer: Layer;
    switch (spec.type) {
      case 'conv': {
        if (shape.length !== 3) throw new RangeError(`conv '${name}': needs an input [C,H,W], got [${shape.join(',')}]`);
        const [kH, kW] = pair(spec.kernel, 3);
        const [sH, sW] = pair(spec.stride, 1);
        const [pH, pW] = pair(spec.pad, 0);
        checkSize(name, 'weights', spec.out * shape[0] * kH * kW);
        const conv = new Conv2d(name, st.ctx, newTag(st, name), {
          inC: shape[0], outC: spec.out, kH, kW, strideH: sH, strideW: sW, padH: pH, padW: pW, bias: spec.bias === true, init: weightInit(st),
        });
        if (conv.bias !== null) conv.bias.decay = decayAll;
        layer = conv;
        break;
      }
      case 'linear': {
        const inF = shape.reduce((a, b) => a * b, 1);
        const outF = spec.out === 'classes' ? st.numClasses : spec.out;
        checkSize(name, 'weights', inF * outF);
        const lin = new Linear(name, st.ctx, newTag(st, name), { inF, outF, bias: spec.bias !== false, init: weightInit(st) });
        if (lin.bias !== null) lin.bias.decay = decayAll;
        layer = lin;
        break;
      }
      case 'relu':
        layer = new ReLU(name, st.ctx);
        break;
      case 'flatten':
        layer = new Flatten(name);
        break;
      case 'gap':
        layer = new GlobalAvgPool(name, st.ctx);
        break;
      case 'maxpool':
      case 'avgpool': {
        const [kH, kW] = pair(spec.kernel, 2);
        const [sH, sW] = pair(spec.stride ?? spec.kernel, 2);
        const [pH, pW] = pair(spec.pad, 0);
        const o = { kH, kW, strideH: sH, strideW: sW, padH: pH, padW: pW, ceil: spec.ceil === true };
        layer = spec.type === 'maxpool' ? new MaxPool2d(name, st.ctx, o) : new AvgPool2d(name, st.ctx, o);
        break;
      }
      case 'bn':
      case 'bn1d':
      case 'bn2d': {
        const kind = spec.type === 'bn' ? (shape.length === 3 ? '2d' : '1d') : spec.type === 'bn2d' ? '2d' : '1d';
        layer = new BatchNorm(name, st.ctx, kind, { channels: shape[0], eps: spec.eps, momentum: spec.momentum, decay: decayAll });
        break;
      }
      case 'dropout':
        layer = new Dropout(name, st.ctx, spec.p);
        break;
      case 'residual': {
        const body = buildChain(st, spec.body, name, 'body.', shape).layers;
        const shortcut = buildChain(st, spec.shortcut ?? [], name, 'shortcut.', shape).layers;
        layer = new Residual(name, st.ctx, body, shortcut);
        break;
      }
    }
    shape = layer.outputShape(shape);
    checkSize(name, 'outputs per sample', shape.reduce((a, b) => a * b, 1));
    layers.push(layer);
  });
  return { layers, shape };
}

/** The model's layers for input shape [C,H,W]; throws a RangeError naming the layer whose geometry fails. */
export function buildLayers(config: ModelConfig, ctx: ModelContext, inputShape: readonly number[], numClasses: number): Layer[] {
  const st: BuildState = { ctx, config, numClasses, names: new Set(), nextTag: 0 };
  return buildChain(st, config.layers, '', '', inputShape).layers;
}
