/**
 * One ONNX node (or a MatMul+Add pair) → one layer spec of this project's model configs, with the
 * weights it carries. Every attribute is read through Attrs, which refuses the ones not understood, so an
 * unsupported variant (grouped or dilated convolution, asymmetric padding, auto_pad, …) fails with the
 * node and attribute named instead of importing a different network.
 */
import type { LayerSpec } from '../nn/models/config.js';
import { Attrs, nodeLabel } from './attrs.js';
import type { GraphIndex } from './graph.js';
import type { NodeProto } from './proto.js';

export const SUPPORTED_OPS = [
  'Conv', 'Gemm', 'MatMul (+Add)', 'BatchNormalization', 'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool',
  'ReduceMean over H,W', 'Flatten', 'Reshape to [batch, -1]', 'Dropout', 'Identity', 'Add (residual)',
  'Sub/Div/Mul/Add by per-channel constants at the input (normalisation)',
];

/** Weights found in the graph for a conv/linear/BN layer, assigned after the model is built. */
export interface Payload {
  node: NodeProto;
  weight?: { dims: number[]; data: Float32Array };
  bias?: Float32Array;
  bn?: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array };
}

export interface Converted {
  /** null: the node is an identity at inference (Dropout, Identity). */
  spec: LayerSpec | null;
  payload?: Payload;
  /** Reshape: the feature count its constant shape names (checked against the real input later). */
  flattenTo?: number;
  /** The layer's name in the source graph (initializer prefix or node name), when it has one. */
  nameHint?: string;
  /** The value the layer produces. */
  out: string;
}

function unsupported(n: NodeProto): Error {
  return new Error(`unsupported operator ${n.op_type} (${nodeLabel(n)}); supported: ${SUPPORTED_OPS.join(', ')}`);
}

/** Extra outputs (MaxPool indices, BatchNormalization training outputs, Dropout mask) must be unused. */
function onlyFirstOutput(g: GraphIndex, n: NodeProto): void {
  for (const o of n.output.slice(1)) {
    if (o !== '' && (g.consumers(o).length > 0 || o === g.output)) throw new Error(`${nodeLabel(n)}: its output '${o}' is used; only the first output is supported`);
  }
}

function allEqual(v: number[] | undefined, want: number, a: Attrs, name: string): void {
  if (v !== undefined && v.some((x) => x !== want)) throw a.error(name, `= [${v.join(',')}] is not supported (only ${want})`);
}

/** Symmetric 2-D pads [top, left, bottom, right] → [pH, pW]. */
function pads2d(a: Attrs): [number, number] {
  const p = a.ints('pads') ?? [0, 0, 0, 0];
  if (p.length !== 4 || p[0] !== p[2] || p[1] !== p[3]) throw a.error('pads', `= [${p.join(',')}] is not supported (2-D, symmetric only)`);
  return [p[0], p[1]];
}

function noAutoPad(a: Attrs): void {
  const ap = a.string('auto_pad', 'NOTSET');
  if (ap !== 'NOTSET' && ap !== 'VALID') throw a.error('auto_pad', `= ${ap} is not supported (give explicit pads)`);
}

function hintFromWeight(name: string | undefined): string | undefined {
  return name?.endsWith('.weight') ? name.slice(0, -'.weight'.length) : undefined;
}

function conv(g: GraphIndex, n: NodeProto): Converted {
  const a = new Attrs(n);
  const w = g.floats(n, 1, 'weight');
  if (w.dims.length !== 4) throw new Error(`${nodeLabel(n)}: weight shape [${w.dims.join(',')}] is not supported (2-D convolutions only)`);
  const [out, , kH, kW] = w.dims;
  const ks = a.ints('kernel_shape');
  if (ks && (ks.length !== 2 || ks[0] !== kH || ks[1] !== kW)) throw a.error('kernel_shape', `= [${ks.join(',')}] does not match the weight`);
  const strides = a.ints('strides') ?? [1, 1];
  if (strides.length !== 2) throw a.error('strides', `= [${strides.join(',')}] is not supported (2-D only)`);
  allEqual(a.ints('dilations'), 1, a, 'dilations');
  if (a.int('group', 1) !== 1) throw a.error('group', `= ${a.int('group', 1)} is not supported (grouped/depthwise convolutions)`);
  noAutoPad(a);
  const [pH, pW] = pads2d(a);
  a.done();
  const bias = n.input[2] ? g.floats(n, 2, 'bias').data : undefined;
  return {
    spec: { type: 'conv', out, kernel: [kH, kW], stride: [strides[0], strides[1]], pad: [pH, pW], bias: bias !== undefined },
    payload: { node: n, weight: w, bias },
    nameHint: hintFromWeight(n.input[1]),
    out: n.output[0],
  };
}

function transpose(dims: number[], data: Float32Array): { dims: number[]; data: Float32Array } {
  const [r, c] = dims;
  const t = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = data[i * c + j];
  return { dims: [c, r], data: t };
}

function gemm(g: GraphIndex, n: NodeProto): Converted {
  const a = new Attrs(n);
  const alpha = a.float('alpha', 1);
  const beta = a.float('beta', 1);
  if (a.int('transA', 0) !== 0) throw a.error('transA', '= 1 is not supported');
  const transB = a.int('transB', 0);
  a.done();
  const b = g.floats(n, 1, 'weight');
  if (b.dims.length !== 2) throw new Error(`${nodeLabel(n)}: weight shape [${b.dims.join(',')}] is not 2-D`);
  // this project's linear weight is [out, in] (PyTorch's layout, Gemm with transB = 1)
  const w = transB ? { dims: b.dims, data: b.data.slice() } : transpose(b.dims, b.data);
  if (alpha !== 1) for (let i = 0; i < w.data.length; i++) w.data[i] *= alpha;
  let bias: Float32Array | undefined;
  if (n.input[2]) {
    const c = g.floats(n, 2, 'bias');
    if (c.data.length !== w.dims[0]) throw new Error(`${nodeLabel(n)}: bias shape [${c.dims.join(',')}] is not supported (one value per output)`);
    bias = c.data.map((v) => v * beta);
  }
  return { spec: { type: 'linear', out: w.dims[0], bias: bias !== undefined }, payload: { node: n, weight: w, bias }, nameHint: hintFromWeight(n.input[1]), out: n.output[0] };
}

/** MatMul by a constant [in, out] matrix, and the Add of a constant bias right after it when there is one. */
function matmul(g: GraphIndex, n: NodeProto): Converted {
  new Attrs(n).done();
  const b = g.floats(n, 1, 'weight');
  if (b.dims.length !== 2) throw new Error(`${nodeLabel(n)}: weight shape [${b.dims.join(',')}] is not supported (a 2-D constant)`);
  const w = transpose(b.dims, b.data);
  const next = g.consumers(n.output[0]);
  if (next.length === 1 && next[0].op_type === 'Add' && n.output[0] !== g.output) {
    const add = next[0];
    const ci = add.input[0] === n.output[0] ? 1 : 0;
    const c = g.consts.get(add.input[ci]);
    if (c) {
      new Attrs(add).done();
      const bias = g.floats(add, ci, 'bias').data;
      if (bias.length !== w.dims[0]) throw new Error(`${nodeLabel(add)}: bias of ${bias.length} values after a MatMul with ${w.dims[0]} outputs`);
      return { spec: { type: 'linear', out: w.dims[0], bias: true }, payload: { node: n, weight: w, bias }, nameHint: hintFromWeight(n.input[1]), out: add.output[0] };
    }
  }
  return { spec: { type: 'linear', out: w.dims[0], bias: false }, payload: { node: n, weight: w }, nameHint: hintFromWeight(n.input[1]), out: n.output[0] };
}

function batchNorm(g: GraphIndex, n: NodeProto): Converted {
  const a = new Attrs(n);
  const eps = a.float('epsilon', 1e-5);
  const momentum = a.float('momentum', 0.9);
  if (a.int('training_mode', 0) !== 0) throw a.error('training_mode', '= 1 is not supported (export the model in eval mode)');
  a.done();
  onlyFirstOutput(g, n);
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => g.floats(n, i, ['scale', 'bias', 'mean', 'variance'][i - 1]).data);
  // ONNX momentum weighs the old running value; this project's (PyTorch's) weighs the new batch value
  // (ONNX stores it as float32: 0.9 arrives as 0.89999998, so round the complement back to 0.1)
  const ours = Math.min(1, Math.max(0, Number((1 - momentum).toFixed(6))));
  return {
    spec: { type: 'bn', eps, momentum: ours },
    payload: { node: n, bn: { gamma, beta, mean, variance } },
    nameHint: hintFromWeight(n.input[1]),
    out: n.output[0],
  };
}

function pool(g: GraphIndex, n: NodeProto, type: 'maxpool' | 'avgpool'): Converted {
  const a = new Attrs(n);
  const k = a.ints('kernel_shape');
  if (!k || k.length !== 2) throw a.error('kernel_shape', `= [${k?.join(',') ?? ''}] is not supported (2-D pooling only)`);
  const s = a.ints('strides') ?? [1, 1];
  if (s.length !== 2) throw a.error('strides', `= [${s.join(',')}] is not supported`);
  const [pH, pW] = pads2d(a);
  if (2 * pH > k[0] || 2 * pW > k[1]) throw a.error('pads', `= [${pH},${pW}] is more than half the kernel [${k.join(',')}]`);
  noAutoPad(a);
  const ceil = a.int('ceil_mode', 0) === 1;
  allEqual(a.ints('dilations'), 1, a, 'dilations');
  if (type === 'maxpool' && a.int('storage_order', 0) !== 0) throw a.error('storage_order', '= 1 is not supported');
  // padding counts as zeros in this project's average pool (PyTorch's default)
  if (type === 'avgpool' && (pH > 0 || pW > 0) && a.int('count_include_pad', 0) !== 1) {
    throw a.error('count_include_pad', '= 0 with padding is not supported (padding counts as zeros here)');
  }
  if (type === 'avgpool') a.int('count_include_pad', 0);
  a.done();
  onlyFirstOutput(g, n);
  return { spec: { type, kernel: [k[0], k[1]], stride: [s[0], s[1]], pad: [pH, pW], ceil }, nameHint: n.name, out: n.output[0] };
}

function reduceMean(g: GraphIndex, n: NodeProto): Converted {
  const a = new Attrs(n);
  // opset 18 moved axes from an attribute to an input
  const axes = a.ints('axes') ?? (n.input[1] ? g.ints(n, 1, 'axes') : undefined);
  const keep = a.int('keepdims', 1);
  a.done();
  const sorted = (axes ?? []).map((x) => (x < 0 ? x + 4 : x)).sort();
  if (sorted.join() !== '2,3' || keep !== 0) throw new Error(`${nodeLabel(n)}: only the mean over H and W without kept dimensions (x.mean([2, 3])) is supported`);
  return { spec: { type: 'gap' }, nameHint: n.name, out: n.output[0] };
}

function reshape(g: GraphIndex, n: NodeProto): Converted {
  const a = new Attrs(n);
  if (a.int('allowzero', 0) !== 0) throw a.error('allowzero', '= 1 is not supported');
  a.done();
  if (!g.isConst(n.input[1])) {
    throw new Error(`${nodeLabel(n)}: its target shape is computed at run time (Shape/Gather/Concat); flatten with torch.flatten(x, 1) or nn.Flatten() instead`);
  }
  const shape = g.ints(n, 1, 'shape');
  if (shape.length !== 2 || !(shape[0] === 0 || shape[0] === -1) || !(shape[1] === -1 || shape[1] >= 1)) {
    throw new Error(`${nodeLabel(n)}: target shape [${shape.join(',')}] is not supported (only flattening to [batch, features]: [0, -1] or [-1, n])`);
  }
  return { spec: { type: 'flatten' }, flattenTo: shape[1] === -1 ? undefined : shape[1], nameHint: n.name, out: n.output[0] };
}

/** Converts `n`, whose data input is the chain value `x`. */
export function convertNode(g: GraphIndex, n: NodeProto, x: string): Converted {
  if (n.input[0] !== x && n.op_type !== 'Add') throw new Error(`${nodeLabel(n)}: the image data must be its first input`);
  switch (n.op_type) {
    case 'Conv':
      return conv(g, n);
    case 'Gemm':
      return gemm(g, n);
    case 'MatMul':
      return matmul(g, n);
    case 'BatchNormalization':
      return batchNorm(g, n);
    case 'Relu':
      new Attrs(n).done();
      return { spec: { type: 'relu' }, nameHint: n.name, out: n.output[0] };
    case 'MaxPool':
      return pool(g, n, 'maxpool');
    case 'AveragePool':
      return pool(g, n, 'avgpool');
    case 'GlobalAveragePool':
      new Attrs(n).done();
      return { spec: { type: 'gap' }, nameHint: n.name, out: n.output[0] };
    case 'ReduceMean':
      return reduceMean(g, n);
    case 'Flatten': {
      const a = new Attrs(n);
      if (a.int('axis', 1) !== 1) throw a.error('axis', `= ${a.int('axis', 1)} is not supported (only 1: [batch, features])`);
      a.done();
      return { spec: { type: 'flatten' }, nameHint: n.name, out: n.output[0] };
    }
    case 'Reshape':
      return reshape(g, n);
    case 'Dropout': {
      const a = new Attrs(n);
      a.float('ratio', 0.5); // opset < 12 kept the ratio here; irrelevant at inference
      a.int('seed', 0);
      a.done();
      if (n.input[2] && !(g.isConst(n.input[2]) && g.ints(n, 2, 'training_mode').every((v) => v === 0))) {
        throw new Error(`${nodeLabel(n)}: training_mode must be a constant false (export in eval mode)`);
      }
      onlyFirstOutput(g, n);
      return { spec: null, out: n.output[0] };
    }
    case 'Identity':
      return { spec: null, out: n.output[0] };
    default:
      throw unsupported(n);
  }
}
