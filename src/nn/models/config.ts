/**
 * Model configs: plain JSON-able objects that users can write themselves.
 *
 *   { "name": "tiny", "init": "kaiming-normal",
 *     "layers": [ {"type": "conv", "out": 8, "kernel": 3, "pad": 1}, {"type": "relu"},
 *                 {"type": "maxpool", "kernel": 2}, {"type": "flatten"},
 *                 {"type": "linear", "out": "classes"} ] }
 *
 * Layer specs (channel/feature counts of the input are inferred from the shape):
 *   conv      out, kernel (3), stride (1), pad (0), bias (false)      kernel/stride/pad: n or [h, w]
 *   linear    out (number or "classes"), bias (true)
 *   relu | flatten | gap (global average pool)
 *   maxpool | avgpool   kernel, stride (= kernel), pad (0), ceil (false: floor output size)
 *   bn        BatchNorm2d on [C,H,W], BatchNorm1d on [C] or [C,L]; eps (1e-5), momentum (0.1)
 *   bn1d | bn2d  the same, rank checked
 *   dropout   p
 *   residual  body: [specs], shortcut: [specs] (empty/absent = identity); y = body(x) + shortcut(x)
 * Every spec may carry a `name` (relative to its parent block); the default is its index.
 * Top level: name, layers, init, initGain, decayAll, description, and `recipe` (default training
 * hyper-parameters: batch, lr, momentum, weightDecay, schedule, warmup; see recipes.ts).
 */
import { INIT_KINDS, type InitKind } from '../init.js';
import { type Recipe, validateRecipe } from './recipes.js';

export type Pair = number | [number, number];

export type LayerSpec =
  | { type: 'conv'; name?: string; out: number; kernel?: Pair; stride?: Pair; pad?: Pair; bias?: boolean }
  | { type: 'linear'; name?: string; out: number | 'classes'; bias?: boolean }
  | { type: 'relu' | 'flatten' | 'gap'; name?: string }
  | { type: 'maxpool' | 'avgpool'; name?: string; kernel: Pair; stride?: Pair; pad?: Pair; ceil?: boolean }
  | { type: 'bn' | 'bn1d' | 'bn2d'; name?: string; eps?: number; momentum?: number }
  | { type: 'dropout'; name?: string; p: number }
  | { type: 'residual'; name?: string; body: LayerSpec[]; shortcut?: LayerSpec[] };

export interface ModelConfig {
  name: string;
  description?: string;
  layers: LayerSpec[];
  /** Weight initialisation of conv/linear layers (default kaiming-normal, fan_in, gain √2). */
  init?: InitKind;
  /** Overrides the init gain. */
  initGain?: number;
  /** Apply weight decay to biases and BatchNorm γ/β too (default true: PyTorch's and Goten's behaviour). */
  decayAll?: boolean;
  /** Default training hyper-parameters of this model (any subset; see recipes.ts). */
  recipe?: Partial<Recipe>;
}

const TYPES = ['conv', 'linear', 'relu', 'flatten', 'gap', 'maxpool', 'avgpool', 'bn', 'bn1d', 'bn2d', 'dropout', 'residual'];

const ALLOWED: Record<string, string[]> = {
  conv: ['out', 'kernel', 'stride', 'pad', 'bias'],
  linear: ['out', 'bias'],
  relu: [],
  flatten: [],
  gap: [],
  maxpool: ['kernel', 'stride', 'pad', 'ceil'],
  avgpool: ['kernel', 'stride', 'pad', 'ceil'],
  bn: ['eps', 'momentum'],
  bn1d: ['eps', 'momentum'],
  bn2d: ['eps', 'momentum'],
  dropout: ['p'],
  residual: ['body', 'shortcut'],
};

function fail(where: string, msg: string): never {
  throw new TypeError(`model config: ${where}: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkPair(where: string, key: string, v: unknown, min: number): void {
  const ok = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= min;
  if (ok(v) || (Array.isArray(v) && v.length === 2 && v.every(ok))) return;
  fail(where, `'${key}' must be an integer ≥ ${min} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
}

function checkSpec(where: string, s: unknown): void {
  if (!isObject(s)) fail(where, `a layer spec must be an object, got ${JSON.stringify(s)}`);
  const t = s.type;
  if (typeof t !== 'string' || !TYPES.includes(t)) fail(where, `unknown layer type ${JSON.stringify(t)} (expected one of ${TYPES.join(', ')})`);
  for (const k of Object.keys(s)) {
    if (k !== 'type' && k !== 'name' && !ALLOWED[t].includes(k)) fail(where, `unknown field '${k}' for a ${t} layer`);
  }
  if (s.name !== undefined && (typeof s.name !== 'string' || s.name === '')) fail(where, `'name' must be a non-empty string`);
  const isPosInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  const optBool = (k: string): void => {
    if (s[k] !== undefined && typeof s[k] !== 'boolean') fail(where, `'${k}' must be a boolean`);
  };
  switch (t) {
    case 'conv':
      if (!isPosInt(s.out)) fail(where, `conv needs 'out' (a positive integer)`);
      if (s.kernel !== undefined) checkPair(where, 'kernel', s.kernel, 1);
      if (s.stride !== undefined) checkPair(where, 'stride', s.stride, 1);
      if (s.pad !== undefined) checkPair(where, 'pad', s.pad, 0);
      optBool('bias');
      break;
    case 'linear':
      if (!isPosInt(s.out) && s.out !== 'classes') fail(where, `linear needs 'out' (a positive integer or "classes")`);
      optBool('bias');
      break;
    case 'maxpool':
    case 'avgpool':
      checkPair(where, 'kernel', s.kernel, 1);
      if (s.stride !== undefined) checkPair(where, 'stride', s.stride, 1);
      if (s.pad !== undefined) checkPair(where, 'pad', s.pad, 0);
      optBool('ceil');
      break;
    case 'bn':
    case 'bn1d':
    case 'bn2d':
      if (s.eps !== undefined && !(typeof s.eps === 'number' && s.eps > 0)) fail(where, `'eps' must be a positive number`);
      if (s.momentum !== undefined && !(typeof s.momentum === 'number' && s.momentum >= 0 && s.momentum <= 1)) {
        fail(where, `'momentum' must be in [0, 1]`);
      }
      break;
    case 'dropout':
      if (!(typeof s.p === 'number' && s.p >= 0 && s.p < 1)) fail(where, `dropout needs 'p' in [0, 1)`);
      break;
    case 'residual':
      if (!Array.isArray(s.body) || s.body.length === 0) fail(where, `residual needs a non-empty 'body' list`);
      s.body.forEach((b, i) => checkSpec(`${where}.body[${i}]`, b));
      if (s.shortcut !== undefined) {
        if (!Array.isArray(s.shortcut)) fail(where, `'shortcut' must be a list of layer specs`);
        s.shortcut.forEach((b, i) => checkSpec(`${where}.shortcut[${i}]`, b));
      }
      break;
  }
}

/** Checks an untrusted (e.g. parsed JSON) config and returns it typed; throws a TypeError naming the bad field. */
export function validateModelConfig(c: unknown): ModelConfig {
  if (!isObject(c)) fail('config', 'must be an object');
  if (typeof c.name !== 'string' || c.name === '') fail('config', `'name' must be a non-empty string`);
  if (c.description !== undefined && typeof c.description !== 'string') fail('config', `'description' must be a string`);
  for (const k of Object.keys(c)) {
    if (!['name', 'layers', 'init', 'initGain', 'decayAll', 'description', 'recipe'].includes(k)) fail('config', `unknown field '${k}'`);
  }
  if (!Array.isArray(c.layers) || c.layers.length === 0) fail('config', `'layers' must be a non-empty list`);
  c.layers.forEach((s, i) => checkSpec(`layers[${i}]`, s));
  if (c.init !== undefined && !INIT_KINDS.includes(c.init as InitKind)) {
    fail('config', `'init' must be one of ${INIT_KINDS.join(', ')}`);
  }
  if (c.initGain !== undefined && !(typeof c.initGain === 'number' && c.initGain > 0)) fail('config', `'initGain' must be positive`);
  if (c.decayAll !== undefined && typeof c.decayAll !== 'boolean') fail('config', `'decayAll' must be a boolean`);
  if (c.recipe !== undefined) validateRecipe(c.recipe);
  return c as unknown as ModelConfig;
}

/** [h, w] of a Pair. */
export function pair(v: Pair | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}
