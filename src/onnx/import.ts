/**
 * An ONNX model → a checkpoint this project runs in every mode (plain, quantized, secure).
 *
 * The graph is read as a chain from its one input to its one output:
 *   - leading Sub/Div/Mul/Add by per-channel constants become the checkpoint's normalisation (the model
 *     takes pixels in [0, 1], like an exported one; a graph without them gets mean 0, std 1);
 *   - each node becomes one layer spec (import-ops.ts); Dropout/Identity vanish;
 *   - a value feeding two nodes opens a residual block: both branches are followed to the Add that joins
 *     them (a branch that is the Add itself is the identity shortcut), recursively;
 *   - a trailing Softmax/LogSoftmax is dropped with a note (the arg-max and the softmax scores this project
 *     derives from the outputs are unchanged by it).
 * The specs form a model config; the model is built from it for the input shape, which checks every
 * shape, and the weights are put in place with an error naming the ONNX node whose weights do not fit.
 * Layer names come from the graph when it has usable ones (this project's exports, PyTorch's
 * `<module>.weight` initializers), else the config's defaults.
 */
import { DataRng } from '../data/random.js';
import type { ChannelStats } from '../data/normalize.js';
import type { Checkpoint } from '../nn/checkpoint.js';
import { BatchNorm } from '../nn/layers/batchnorm.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Flatten } from '../nn/layers/flatten.js';
import type { Layer } from '../nn/layers/layer.js';
import { Linear } from '../nn/layers/linear.js';
import { Residual } from '../nn/layers/residual.js';
import type { LayerSpec, ModelConfig } from '../nn/models/config.js';
import { buildModel } from '../nn/models/index.js';
import { PlainExecutor } from '../nn/plain-executor.js';
import { getBackend } from '../backend/index.js';
import { Attrs, nodeLabel } from './attrs.js';
import { META } from './meta.js';
import { GraphIndex } from './graph.js';
import { type Converted, convertNode, type Payload } from './import-ops.js';
import { decodeModel, type ModelProto, type NodeProto } from './proto.js';

export interface ImportResult {
  checkpoint: Checkpoint;
  config: ModelConfig;
  /** Things a person should know (a dropped softmax, defaults taken). */
  notes: string[];
}

/** Per-spec facts the chain walk found, used after the model is built. */
interface SpecInfo {
  payload?: Payload;
  flattenTo?: number;
  node?: NodeProto;
}

interface Chain {
  specs: LayerSpec[];
  hints: (string | undefined)[];
  end: string;
  /** The Add that joins this branch with its sibling (branches only). */
  join?: NodeProto;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

class Walker {
  readonly info = new WeakMap<LayerSpec, SpecInfo>();
  droppedSoftmax: string | null = null;
  constructor(readonly g: GraphIndex) {}

  isJoin(n: NodeProto): boolean {
    return n.op_type === 'Add' && n.input.length === 2 && !this.g.isConst(n.input[0]) && !this.g.isConst(n.input[1]);
  }

  chain(start: string, first?: NodeProto): Chain {
    const specs: LayerSpec[] = [];
    const hints: (string | undefined)[] = [];
    let v = start;
    let forced = first;
    for (;;) {
      const next = forced ? [forced] : this.g.consumers(v);
      forced = undefined;
      if (next.length === 0) return { specs, hints, end: v };
      if (next.length > 2) throw new Error(`${this.g.what}: value '${v}' feeds ${next.length} nodes; only two-way branches (residual blocks) are supported`);
      if (next.length === 2) {
        const r = this.residual(v, next);
        specs.push(r.spec);
        hints.push(r.hint);
        v = r.out;
        continue;
      }
      const n = next[0];
      if (this.isJoin(n)) return { specs, hints, end: v, join: n };
      if ((n.op_type === 'Softmax' || n.op_type === 'LogSoftmax') && n.output[0] === this.g.output) {
        const a = new Attrs(n);
        const axis = a.int('axis', -1);
        a.done();
        if (axis !== -1 && axis !== 1) throw a.error('axis', `= ${axis} is not supported (the class axis)`);
        this.droppedSoftmax = n.op_type;
        return { specs, hints, end: n.output[0] };
      }
      const c: Converted = convertNode(this.g, n, v);
      if (c.spec) {
        specs.push(c.spec);
        hints.push(c.nameHint ?? (n.name || undefined));
        this.info.set(c.spec, { payload: c.payload, flattenTo: c.flattenTo, node: n });
      }
      v = c.out;
    }
  }

  residual(v: string, next: NodeProto[]): { spec: LayerSpec; hint?: string; out: string } {
    const branches = next.map((n) => (this.isJoin(n) && n.input.includes(v) ? { specs: [], hints: [], end: v, join: n } : this.chain(v, n)));
    const join = branches[0].join;
    if (!join || branches[1].join !== join || !branches.every((b) => join.input.includes(b.end))) {
      throw new Error(`${this.g.what}: value '${v}' branches into ${next.map(nodeLabel).join(' and ')}, which do not meet again in one Add; only residual blocks are supported`);
    }
    new Attrs(join).done();
    // body: the branch with layers feeding the Add's first input; an empty branch is the identity shortcut
    let [body, shortcut] = branches;
    if (body.specs.length === 0 || (shortcut.specs.length > 0 && join.input[0] !== body.end)) [body, shortcut] = [shortcut, body];
    if (body.specs.length === 0) throw new Error(`${nodeLabel(join)}: adds a value to itself; not a residual block`);
    const spec: LayerSpec = { type: 'residual', body: body.specs, shortcut: shortcut.specs };
    const full = validName(join.name);
    nameBlock(body.specs, body.hints, full, 'body.');
    nameBlock(shortcut.specs, shortcut.hints, full, 'shortcut.');
    return { spec, hint: full, out: join.output[0] };
  }
}

function validName(s: string | undefined): string | undefined {
  return s !== undefined && NAME_RE.test(s) ? s : undefined;
}

/** Gives specs their source names relative to the block `parent`, unless they would collide with any other name. */
function nameBlock(specs: LayerSpec[], hints: (string | undefined)[], parent: string | undefined, prefix: string): void {
  const local = hints.map((h) => {
    const full = validName(h);
    if (full === undefined) return undefined;
    if (parent === undefined) return prefix === '' ? full : undefined;
    return full.startsWith(`${parent}.`) ? full.slice(parent.length + 1) : undefined;
  });
  const names = local.map((l, i) => l ?? `${prefix}${i}`);
  local.forEach((l, i) => {
    if (l !== undefined && names.indexOf(l) === i && names.lastIndexOf(l) === i) specs[i].name = l;
  });
}

/** Leading Sub/Div/Mul/Add by per-channel constants → x·scale + shift per channel. */
function inputAffine(g: GraphIndex, C: number): { scale: Float64Array; shift: Float64Array; out: string } {
  const scale = new Float64Array(C).fill(1);
  const shift = new Float64Array(C);
  let v = g.input;
  for (;;) {
    const next = g.consumers(v);
    if (next.length !== 1) break;
    const n = next[0];
    const op = n.op_type ?? '';
    if (!['Sub', 'Div', 'Mul', 'Add'].includes(op)) break;
    const ci = n.input[0] === v ? 1 : 0;
    if (!g.isConst(n.input[ci])) break;
    if (ci === 0 && (op === 'Sub' || op === 'Div')) throw new Error(`${nodeLabel(n)}: a constant minus/divided by the input is not supported`);
    new Attrs(n).done();
    const c = g.floats(n, ci, 'constant');
    // numpy broadcasting aligns dims from the right with [N, C, H, W]: only the C axis (third from the right) may exceed 1
    const perChannel = c.dims.length <= 4 && c.dims.every((d, i) => d === 1 || (c.dims.length - i === 3 && d === C));
    if (!perChannel) throw new Error(`${nodeLabel(n)}: constant of shape [${c.dims.join(',')}] at the input; only per-channel ([C,1,1], [1,C,1,1]) or scalar constants are supported`);
    for (let ch = 0; ch < C; ch++) {
      const k = c.data.length === 1 ? c.data[0] : c.data[ch]; // [C,1,1] and [1,C,1,1] hold the channels in order
      if (op === 'Sub') shift[ch] -= k;
      else if (op === 'Add') shift[ch] += k;
      else if (op === 'Mul') (scale[ch] *= k), (shift[ch] *= k);
      else (scale[ch] /= k), (shift[ch] /= k);
    }
    v = n.output[0];
  }
  return { scale, shift, out: v };
}

function normFrom(scale: Float64Array, shift: Float64Array, meta: string | undefined, what: string): ChannelStats {
  if (scale.some((s) => !(s > 0) || !Number.isFinite(s))) throw new Error(`${what}: the input normalisation must scale every channel by a positive factor`);
  const norm = { mean: Array.from(shift, (t, c) => -t / scale[c]), std: Array.from(scale, (s) => 1 / s) };
  // our own export: the exact (float64) statistics, when the graph's float32 constants agree with them
  try {
    const m = meta === undefined ? undefined : (JSON.parse(meta) as ChannelStats);
    const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= 1e-6 * Math.max(1, Math.abs(b[i])));
    if (m && Array.isArray(m.mean) && Array.isArray(m.std) && close(m.mean, norm.mean) && close(m.std, norm.std)) return { mean: m.mean, std: m.std };
  } catch {
    /* not ours: the graph's values */
  }
  return norm;
}

/** Puts the found weights into the built layers (walking specs and layers together), checking shapes. */
function assign(specs: readonly LayerSpec[], layers: readonly Layer[], info: WeakMap<LayerSpec, SpecInfo>, shape: number[]): number[] {
  specs.forEach((spec, i) => {
    const l = layers[i];
    const si = info.get(spec);
    const where = si?.node ? nodeLabel(si.node) : `layer '${l.name}'`;
    const put = (dst: { name: string; shape: number[]; value: Float32Array }, src: Float32Array, dims?: number[]) => {
      if (src.length !== dst.value.length) {
        throw new Error(`${where}: ${dst.name.split('.').pop()} of shape [${dims?.join(',') ?? src.length}] does not fit its input [${shape.join(',')}] (needs [${dst.shape.join(',')}])`);
      }
      dst.value.set(src);
    };
    const p = si?.payload;
    if ((l instanceof Conv2d || l instanceof Linear) && p?.weight) {
      put(l.weight, p.weight.data, p.weight.dims);
      if (l.bias && p.bias) put(l.bias, p.bias);
    } else if (l instanceof BatchNorm && p?.bn) {
      const [mean, variance] = l.buffers();
      put(l.weight, p.bn.gamma);
      put(l.bias, p.bn.beta);
      put(mean, p.bn.mean);
      put(variance, p.bn.variance);
    } else if (l instanceof Flatten && si?.flattenTo !== undefined) {
      const n = shape.reduce((a, b) => a * b, 1);
      if (n !== si.flattenTo) throw new Error(`${where}: reshapes [${shape.join(',')}] (${n} values per image) to ${si.flattenTo} features`);
    } else if (l instanceof Residual && spec.type === 'residual') {
      assign(spec.body, l.body, info, shape);
      assign(spec.shortcut ?? [], l.shortcut, info, shape);
    }
    shape = l.outputShape(shape);
  });
  return shape;
}

function metadata(m: ModelProto): Map<string, string> {
  return new Map(m.metadata_props.filter((p) => p.key !== undefined && p.value !== undefined).map((p) => [p.key!, p.value!]));
}

export function onnxToCheckpoint(m: ModelProto, what = 'model'): ImportResult {
  const g = new GraphIndex(m, what);
  const meta = metadata(m);
  const notes: string[] = [];
  const inputShape = g.inputShape();
  const affine = inputAffine(g, inputShape[0]);
  const norm = normFrom(affine.scale, affine.shift, meta.get(META.norm), what);
  if (affine.out === g.input) notes.push('the graph has no input normalisation: inputs are used as given (mean 0, std 1)');
  const w = new Walker(g);
  const chain = w.chain(affine.out);
  if (chain.join) throw new Error(`${nodeLabel(chain.join)}: joins a value from outside any residual block`);
  if (chain.end !== g.output) throw new Error(`${what}: the chain of layers from the input ends at '${chain.end}', not at the graph output '${g.output}'`);
  if (w.droppedSoftmax) notes.push(`dropped the final ${w.droppedSoftmax}: the model's outputs are the logits before it (same classes)`);
  if (chain.specs.length === 0) throw new Error(`${what}: the graph has no layers`);
  nameBlock(chain.specs, chain.hints, undefined, '');
  const config: ModelConfig = { name: m.graph?.name || 'onnx-model', layers: chain.specs };
  const metaSeed = Number(meta.get(META.seed) ?? 1);
  const seed = Number.isSafeInteger(metaSeed) && metaSeed >= 0 ? metaSeed : 1;
  const numClasses = g.outputClasses() ?? lastOut(chain.specs);
  const model = buildModel(config, { inputShape, numClasses, seed, executor: new PlainExecutor(getBackend('js')) });
  assign(config.layers, model.layers, w.info, [...inputShape]);
  const checkpoint: Checkpoint = {
    info: {
      model: JSON.stringify(config),
      data: meta.get(META.data) ?? '',
      mode: 'plain',
      seed,
      epoch: 0,
      step: 0,
      batchSize: 64,
      hyper: { importedFrom: m.producer_name ? `onnx:${m.producer_name}` : 'onnx' },
      norm,
      numClasses,
      inputShape: [...inputShape],
      partial: null,
    },
    params: new Map(model.parameters().map((p) => [p.name, { dtype: 'F32' as const, shape: [...p.shape], data: p.value.slice() }])),
    buffers: new Map(model.buffers().map((b) => [b.name, { dtype: 'F32' as const, shape: [...b.shape], data: b.value.slice() }])),
    optimizer: null,
    rng: { model: model.rng.getState(), loader: { orderRng: new DataRng(seed, 1).getState(), augRng: new DataRng(seed, 2).getState(), position: 0, inEpoch: false } },
  };
  return { checkpoint, config, notes };
}

/** The class count when the graph does not declare it: the last top-level linear layer's outputs. */
function lastOut(specs: readonly LayerSpec[]): number {
  for (let i = specs.length - 1; i >= 0; i--) {
    const s = specs[i];
    if (s.type === 'linear' && typeof s.out === 'number') return s.out;
  }
  throw new Error('cannot tell the number of classes: the graph output has no static size and the model does not end with a linear layer');
}

/** Decodes and imports .onnx bytes. */
export function importOnnxBytes(bytes: Uint8Array, what = 'model'): ImportResult {
  return onnxToCheckpoint(decodeModel(bytes, what), what);
}

/**
 * Whether a file's first bytes are an ONNX model rather than a checkpoint: a safetensors file starts with
 * an 8-byte header length and then '{', a sealed one with 'GTS1'; a protobuf ModelProto starts with a field
 * tag (PyTorch and this exporter write ir_version first: 0x08). The `.onnx` suffix decides otherwise.
 */
export function looksLikeOnnx(head: Uint8Array, path = ''): boolean {
  if (head.length >= 9 && head[8] === 0x7b) return false;
  if (head.length >= 4 && String.fromCharCode(head[0], head[1], head[2], head[3]) === 'GTS1') return false;
  return path.toLowerCase().endsWith('.onnx') || head[0] === 0x08;
}
