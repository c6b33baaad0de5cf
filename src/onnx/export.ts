/**
 * A checkpoint's network as a standard ONNX model (opset 17) in inference form:
 *
 *   input  "input"  float32 [batch, C, H, W], pixels scaled to [0, 1] (what `goten predict` feeds the model
 *                   before normalising), batch dynamic
 *   Sub(mean) → Div(std)   the checkpoint's per-channel normalisation, so the graph takes raw [0, 1] pixels
 *   Conv / Gemm (+ Flatten where a linear layer meets a [C,H,W] input) / BatchNormalization (running
 *   statistics, kept unfolded so import restores the same parameters) / Relu / MaxPool / AveragePool /
 *   GlobalAveragePool+Flatten / Flatten / Add (residual blocks); Dropout is left out (identity at inference)
 *   output "logits" float32 [batch, classes]
 *
 * Node names are the layers' own names and initializers are `<layer>.weight` etc., so `goten import`
 * brings the same names back. metadata_props carries the data spec, seed and the exact (float64)
 * normalisation so that a round trip predicts bit-identically.
 */
import type { Checkpoint } from '../nn/checkpoint.js';
import { BatchNorm } from '../nn/layers/batchnorm.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Flatten } from '../nn/layers/flatten.js';
import type { Layer } from '../nn/layers/layer.js';
import { Linear } from '../nn/layers/linear.js';
import { AvgPool2d, GlobalAvgPool } from '../nn/layers/avgpool.js';
import { MaxPool2d, type WindowPool } from '../nn/layers/pool.js';
import { ReLU } from '../nn/layers/relu.js';
import { Residual } from '../nn/layers/residual.js';
import { PlainExecutor } from '../nn/plain-executor.js';
import { getBackend } from '../backend/index.js';
import { inferenceModel } from '../nn/inference.js';
import { floatAttr, intAttr, intsAttr } from './attrs.js';
import { type AttributeProto, DT_FLOAT, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';
import { floatTensor } from './tensor.js';
import { META } from './meta.js';

export const EXPORT_OPSET = 17;
/** ONNX IR version 8 goes with opset 17 (ONNX 1.12). */
export const EXPORT_IR_VERSION = 8;

class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];

  node(op: string, name: string, inputs: string[], attrs: AttributeProto[] = [], output = name): string {
    this.nodes.push({ op_type: op, name, input: inputs, output: [output], attribute: attrs });
    return output;
  }

  init(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }
}

function poolAttrs(w: WindowPool['window']): AttributeProto[] {
  return [
    intsAttr('kernel_shape', [w.kH, w.kW]),
    intsAttr('strides', [w.sH, w.sW]),
    intsAttr('pads', [w.pH, w.pW, w.pH, w.pW]),
    intAttr('ceil_mode', w.ceil ? 1 : 0),
  ];
}

/** Emits `layers` applied to value `x` of per-sample shape `shape`; returns the output value and shape. */
function emitChain(g: GraphBuilder, layers: readonly Layer[], x: string, shape: number[]): { x: string; shape: number[] } {
  for (const l of layers) {
    const out = l.outputShape(shape);
    if (l instanceof Conv2d) {
      const inputs = [x, g.init(l.weight.name, l.weight.shape, l.weight.value)];
      if (l.bias) inputs.push(g.init(l.bias.name, l.bias.shape, l.bias.value));
      x = g.node('Conv', l.name, inputs, [
        intsAttr('kernel_shape', [l.kH, l.kW]),
        intsAttr('strides', [l.strideH, l.strideW]),
        intsAttr('pads', [l.padH, l.padW, l.padH, l.padW]),
        intsAttr('dilations', [1, 1]),
        intAttr('group', 1),
      ]);
    } else if (l instanceof Linear) {
      // Gemm takes [batch, features]: a linear layer on [C,H,W] flattens implicitly, ONNX needs the Flatten
      if (shape.length > 1) x = g.node('Flatten', `${l.name}/flatten`, [x], [intAttr('axis', 1)]);
      const inputs = [x, g.init(l.weight.name, l.weight.shape, l.weight.value)];
      if (l.bias) inputs.push(g.init(l.bias.name, l.bias.shape, l.bias.value));
      x = g.node('Gemm', l.name, inputs, [floatAttr('alpha', 1), floatAttr('beta', 1), intAttr('transB', 1)]);
    } else if (l instanceof BatchNorm) {
      const [mean, variance] = l.buffers();
      x = g.node(
        'BatchNormalization',
        l.name,
        [
          x,
          g.init(l.weight.name, l.weight.shape, l.weight.value),
          g.init(l.bias.name, l.bias.shape, l.bias.value),
          g.init(mean.name, mean.shape, mean.value),
          g.init(variance.name, variance.shape, variance.value),
        ],
        [floatAttr('epsilon', l.eps), floatAttr('momentum', 1 - l.momentum)],
      );
    } else if (l instanceof ReLU) {
      x = g.node('Relu', l.name, [x]);
    } else if (l instanceof MaxPool2d) {
      x = g.node('MaxPool', l.name, [x], poolAttrs(l.window));
    } else if (l instanceof AvgPool2d) {
      // this project's average pool counts padding as zeros (PyTorch's default count_include_pad=True)
      x = g.node('AveragePool', l.name, [x], [...poolAttrs(l.window), intAttr('count_include_pad', 1)]);
    } else if (l instanceof GlobalAvgPool) {
      const pooled = g.node('GlobalAveragePool', `${l.name}/pool`, [x]);
      x = g.node('Flatten', l.name, [pooled], [intAttr('axis', 1)]);
    } else if (l instanceof Flatten) {
      x = g.node('Flatten', l.name, [x], [intAttr('axis', 1)]);
    } else if (l instanceof Dropout) {
      // identity at inference
    } else if (l instanceof Residual) {
      const body = emitChain(g, l.body, x, shape);
      const shortcut = l.shortcut.length > 0 ? emitChain(g, l.shortcut, x, shape) : { x, shape };
      x = g.node('Add', l.name, [body.x, shortcut.x]);
    } else {
      throw new Error(`cannot export layer '${l.name}' of type ${l.type} to ONNX`);
    }
    shape = out;
  }
  return { x, shape };
}

function tensorInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: DT_FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** The ONNX model of a checkpoint (any mode: weights are float32 in every mode). */
export function checkpointToOnnx(ckpt: Checkpoint, what = 'checkpoint'): ModelProto {
  // the model is only walked, never run: any backend will do, and js needs no native addon
  const im = inferenceModel(ckpt, new PlainExecutor(getBackend('js')), '', what);
  const [C, H, W] = im.inputShape;
  const g = new GraphBuilder();
  const perChannel = (v: readonly number[]) => Float32Array.from(v);
  const mean = g.init('input.mean', [1, C, 1, 1], perChannel(im.norm.mean));
  const std = g.init('input.std', [1, C, 1, 1], perChannel(im.norm.std));
  const centred = g.node('Sub', 'normalize/sub', ['input', mean]);
  const normalized = g.node('Div', 'normalize', [centred, std]);
  const { x } = emitChain(g, im.model.layers, normalized, [C, H, W]);
  const last = g.nodes.at(-1);
  if (!last || last.output[0] !== x) throw new Error(`${what}: the model's last layer produces no node`);
  last.output[0] = 'logits';
  return {
    ir_version: EXPORT_IR_VERSION,
    opset_import: [{ domain: '', version: EXPORT_OPSET }],
    producer_name: 'goten-ts',
    producer_version: '0.1.0',
    doc_string: `${im.name}: input float32 NCHW pixels in [0, 1] (normalisation inside the graph), output logits`,
    graph: {
      name: im.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorInfo('input', ['batch', C, H, W])],
      output: [tensorInfo('logits', ['batch', im.numClasses])],
      value_info: [],
    },
    metadata_props: [
      { key: META.model, value: ckpt.info.model },
      { key: META.data, value: ckpt.info.data },
      { key: META.seed, value: String(ckpt.info.seed) },
      { key: META.norm, value: JSON.stringify(im.norm) },
    ],
  };
}
