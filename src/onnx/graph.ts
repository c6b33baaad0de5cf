/**
 * An ONNX graph indexed for the importer: constants (initializers and Constant nodes), who consumes each
 * value, the one real input and the one output, with the model-level checks (opset, domains, functions)
 * done once up front.
 */
import { Attrs, nodeLabel } from './attrs.js';
import { DT_FLOAT, DT_INT64, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto.js';
import { readFloats, readInts } from './tensor.js';

/** Oldest opset whose Conv/Pool/Gemm/BatchNormalization/Dropout semantics the importer assumes. */
export const MIN_OPSET = 11;

export class GraphIndex {
  readonly graph: GraphProto;
  readonly consts = new Map<string, TensorProto>();
  readonly nodes: NodeProto[] = [];
  readonly input: string;
  readonly output: string;
  readonly opset: number;
  readonly #consumers = new Map<string, NodeProto[]>();

  constructor(
    m: ModelProto,
    readonly what: string,
  ) {
    if (!m.graph) throw new Error(`${what}: the ONNX model has no graph`);
    this.graph = m.graph;
    const opset = m.opset_import.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
    this.opset = opset?.version ?? 0;
    if (this.opset < MIN_OPSET) throw new Error(`${what}: opset ${this.opset} is not supported (need ${MIN_OPSET} or later; torch.onnx.export(opset_version=17))`);
    if ((m.functions?.length ?? 0) > 0) throw new Error(`${what}: model-local functions are not supported`);
    if ((this.graph.sparse_initializer?.length ?? 0) > 0) throw new Error(`${what}: sparse initializers are not supported`);
    for (const t of this.graph.initializer) if (t.name) this.consts.set(t.name, t);
    for (const n of this.graph.node) {
      if (n.domain && n.domain !== 'ai.onnx') throw new Error(`${what}: ${nodeLabel(n)} is from operator domain '${n.domain}'; only standard ONNX operators are supported`);
      if (n.op_type === 'Constant') {
        this.consts.set(n.output[0], constantValue(n));
        continue;
      }
      this.nodes.push(n);
    }
    for (const n of this.nodes) {
      for (const v of new Set(n.input)) {
        if (v === '' || this.consts.has(v)) continue;
        let list = this.#consumers.get(v);
        if (!list) this.#consumers.set(v, (list = []));
        list.push(n);
      }
    }
    // older exporters also list the initializers among the graph inputs
    const inputs = this.graph.input.filter((i) => i.name && !this.consts.has(i.name));
    if (inputs.length !== 1) throw new Error(`${what}: the graph has ${inputs.length} inputs; exactly one image input is supported`);
    if (this.graph.output.length !== 1) throw new Error(`${what}: the graph has ${this.graph.output.length} outputs; exactly one (the logits) is supported`);
    this.input = inputs[0].name!;
    this.output = this.graph.output[0].name!;
  }

  consumers(value: string): NodeProto[] {
    return this.#consumers.get(value) ?? [];
  }

  isConst(value: string): boolean {
    return this.consts.has(value);
  }

  /** A constant operand of `node` (input `i`), or an error naming the node. */
  constTensor(node: NodeProto, i: number, role: string): TensorProto {
    const t = this.consts.get(node.input[i] ?? '');
    if (!t) throw new Error(`${nodeLabel(node)}: its ${role} must be a constant (an initializer), not a computed value`);
    return t;
  }

  floats(node: NodeProto, i: number, role: string): { dims: number[]; data: Float32Array } {
    const t = this.constTensor(node, i, role);
    return { dims: t.dims, data: readFloats(t, this.what) };
  }

  ints(node: NodeProto, i: number, role: string): number[] {
    return readInts(this.constTensor(node, i, role), this.what);
  }

  /** Static [C, H, W] of the image input (the batch dimension may be symbolic). */
  inputShape(): [number, number, number] {
    const info = this.graph.input.find((i) => i.name === this.input);
    const tt = info?.type?.tensor_type;
    if (tt?.elem_type !== undefined && tt.elem_type !== DT_FLOAT) throw new Error(`${this.what}: input '${this.input}' has element type ${tt.elem_type}; float32 is expected`);
    const dims = tt?.shape?.dim ?? [];
    const fixed = dims.slice(1).map((d) => d.dim_value ?? 0);
    if (dims.length !== 4 || fixed.some((d) => !(d >= 1))) {
      const shown = dims.map((d) => d.dim_value ?? d.dim_param ?? '?').join(',');
      throw new Error(`${this.what}: input '${this.input}' has shape [${shown}]; expected [batch, C, H, W] with fixed C, H and W`);
    }
    return [fixed[0], fixed[1], fixed[2]];
  }

  /** The output's static class count, when the graph declares it. */
  outputClasses(): number | undefined {
    const dims = this.graph.output[0].type?.tensor_type?.shape?.dim ?? [];
    return dims.length === 2 && (dims[1].dim_value ?? 0) >= 1 ? dims[1].dim_value : undefined;
  }
}

/** The tensor a Constant node produces (value, or the scalar/list shorthands). */
function constantValue(n: NodeProto): TensorProto {
  const a = new Attrs(n);
  const empty = { float_data: [], int64_data: [], int32_data: [], double_data: [] };
  const t = a.tensor('value');
  const f = a.float('value_float', NaN);
  const fs = a.floats('value_floats');
  const i = a.int('value_int', NaN);
  const is = a.ints('value_ints');
  a.done();
  const name = n.output[0];
  if (t) return { ...t, name };
  if (!Number.isNaN(f)) return { ...empty, name, dims: [], data_type: DT_FLOAT, float_data: [f] };
  if (fs) return { ...empty, name, dims: [fs.length], data_type: DT_FLOAT, float_data: [...fs] };
  if (!Number.isNaN(i)) return { ...empty, name, dims: [], data_type: DT_INT64, int64_data: [i] };
  if (is) return { ...empty, name, dims: [is.length], data_type: DT_INT64, int64_data: is };
  throw new Error(`${nodeLabel(n)}: only tensor, float(s) and int(s) constants are supported`);
}
