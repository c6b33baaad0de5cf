/**
 * Plaintext formats carried inside the encrypted channel (channel.ts) — the same code on both sides.
 *
 * Prediction query (POST /predict), either
 *   JSON    {"inputs": [[v, …], …]}   one flat row of C·H·W numbers per input
 *   binary  "GQI1" ‖ u32 count ‖ u32 C ‖ u32 H ‖ u32 W ‖ count·C·H·W float32            (all little-endian)
 * Values are in the data's natural range (pixel bytes × the split's scale, i.e. [0, 1] for images); the
 * enclave normalises them with the model's stored statistics. The answer mirrors the query's form:
 *   JSON    {"model": "<sha256 hex>", "classes": [k, …], "scores": [[p, …], …]}
 *   binary  "GQO1" ‖ u32 count ‖ u32 K ‖ 32-byte model digest ‖ count int32 classes ‖ count·K float32 scores
 * scores are softmax probabilities; "model" is the SHA-256 of the answering checkpoint (the attested one).
 *
 * Data set ("GDS1", a file for `goten upload --data file.gds` and the upload payload):
 *   "GDS1" ‖ u32 header length H ‖ H bytes JSON header ‖ payload
 *   header  {"v":1,"name","shape":[C,H,W],"numClasses","dtype":"u8"|"f32","scale","train":n,"test":m}
 *   payload train images (n·C·H·W elements of dtype) ‖ train labels (n int32) ‖ test images ‖ test labels
 */
import type { Dataset, Split } from '../data/dataset.js';

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

export type QueryForm = 'json' | 'binary';

export interface Query {
  form: QueryForm;
  count: number;
  /** count × C·H·W values */
  values: Float32Array;
  /** binary form only: the shape the client declared */
  shape?: [number, number, number];
}

const u32 = (b: Buffer, at: number) => b.readUInt32LE(at);

/** Parses a query; `per` = C·H·W of the model, `maxInputs` = the per-query limit. Throws CodecError. */
export function decodeQuery(pt: Buffer, shape: readonly [number, number, number], maxInputs: number): Query {
  const per = shape[0] * shape[1] * shape[2];
  if (pt.length >= 4 && pt.toString('latin1', 0, 4) === 'GQI1') {
    if (pt.length < 20) throw new CodecError('binary query is shorter than its 20-byte header');
    const count = u32(pt, 4);
    const s: [number, number, number] = [u32(pt, 8), u32(pt, 12), u32(pt, 16)];
    if (s.join() !== shape.join()) throw new CodecError(`query inputs are ${s.join('×')}, the model takes ${shape.join('×')}`);
    checkCount(count, maxInputs);
    if (pt.length !== 20 + count * per * 4) throw new CodecError(`binary query of ${count} inputs must be ${20 + count * per * 4} bytes, got ${pt.length}`);
    const values = new Float32Array(count * per);
    new Uint8Array(values.buffer).set(pt.subarray(20));
    return { form: 'binary', count, values, shape: s };
  }
  let v: unknown;
  try {
    v = JSON.parse(pt.toString('utf8'));
  } catch {
    throw new CodecError('query is neither a GQI1 binary query nor valid JSON');
  }
  const inputs = (v as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) throw new CodecError('JSON query needs "inputs": an array of flat input rows');
  checkCount(inputs.length, maxInputs);
  const values = new Float32Array(inputs.length * per);
  inputs.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== per) throw new CodecError(`input ${i} must be an array of ${per} numbers (${shape.join('×')})`);
    for (let j = 0; j < per; j++) {
      const x = row[j];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new CodecError(`input ${i} has a non-numeric or non-finite value`);
      values[i * per + j] = x;
    }
  });
  return { form: 'json', count: inputs.length, values };
}

function checkCount(count: number, max: number): void {
  if (count < 1) throw new CodecError('a query needs at least one input');
  if (count > max) throw new CodecError(`a query may hold at most ${max} inputs, got ${count}`);
}

export function encodeQuery(form: QueryForm, values: Float32Array, count: number, shape: readonly [number, number, number]): Buffer {
  const per = shape[0] * shape[1] * shape[2];
  if (values.length !== count * per) throw new RangeError(`expected ${count} × ${per} values, got ${values.length}`);
  if (form === 'json') {
    const inputs: number[][] = [];
    for (let i = 0; i < count; i++) inputs.push(Array.from(values.subarray(i * per, (i + 1) * per)));
    return Buffer.from(JSON.stringify({ inputs }), 'utf8');
  }
  const h = Buffer.alloc(20);
  h.write('GQI1', 0, 'latin1');
  [count, shape[0], shape[1], shape[2]].forEach((x, i) => h.writeUInt32LE(x, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
}

export interface Answer {
  /** SHA-256 hex of the answering checkpoint */
  model: string;
  classes: Int32Array;
  /** count × K softmax probabilities */
  scores: Float32Array;
  numClasses: number;
}

export function encodeAnswer(form: QueryForm, a: Answer): Buffer {
  const count = a.classes.length;
  const k = a.numClasses;
  if (form === 'json') {
    const scores: number[][] = [];
    for (let i = 0; i < count; i++) scores.push(Array.from(a.scores.subarray(i * k, (i + 1) * k)));
    return Buffer.from(JSON.stringify({ model: a.model, classes: Array.from(a.classes), scores }), 'utf8');
  }
  const h = Buffer.alloc(44);
  h.write('GQO1', 0, 'latin1');
  h.writeUInt32LE(count, 4);
  h.writeUInt32LE(k, 8);
  Buffer.from(a.model, 'hex').copy(h, 12);
  return Buffer.concat([h, Buffer.from(a.classes.buffer, a.classes.byteOffset, a.classes.byteLength), Buffer.from(a.scores.buffer, a.scores.byteOffset, a.scores.byteLength)]);
}

export function decodeAnswer(pt: Buffer): Answer {
  if (pt.length >= 4 && pt.toString('latin1', 0, 4) === 'GQO1') {
    if (pt.length < 44) throw new CodecError('binary answer is shorter than its header');
    const count = u32(pt, 4);
    const k = u32(pt, 8);
    if (pt.length !== 44 + count * 4 + count * k * 4) throw new CodecError('binary answer has the wrong length');
    const classes = new Int32Array(count);
    new Uint8Array(classes.buffer).set(pt.subarray(44, 44 + count * 4));
    const scores = new Float32Array(count * k);
    new Uint8Array(scores.buffer).set(pt.subarray(44 + count * 4));
    return { model: pt.subarray(12, 44).toString('hex'), classes, scores, numClasses: k };
  }
  const v = JSON.parse(pt.toString('utf8')) as { model?: unknown; classes?: unknown; scores?: unknown };
  if (typeof v.model !== 'string' || !Array.isArray(v.classes) || !Array.isArray(v.scores)) throw new CodecError('JSON answer lacks model/classes/scores');
  const rows = v.scores as number[][];
  const k = rows[0]?.length ?? 0;
  return { model: v.model, classes: Int32Array.from(v.classes as number[]), scores: Float32Array.from(rows.flat()), numClasses: k };
}

// ---- data sets -------------------------------------------------------------------------------------------

export interface DatasetHeader {
  v: 1;
  name: string;
  shape: [number, number, number];
  numClasses: number;
  dtype: 'u8' | 'f32';
  scale: number;
  train: number;
  test: number;
}

const MAX_ELEMENTS_PER_IMAGE = 1 << 24;

/** Validates a header from an untrusted source (upload begin, a file); returns the payload byte length. */
export function validateDatasetHeader(h: unknown, maxBytes: number): { header: DatasetHeader; bytes: number } {
  const o = h as Partial<DatasetHeader> | null;
  const int = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new CodecError('data set header must be a JSON object');
  if (o.v !== 1) throw new CodecError('data set header version must be 1');
  if (typeof o.name !== 'string' || o.name.length > 200) throw new CodecError('data set "name" must be a string of ≤ 200 characters');
  if (!Array.isArray(o.shape) || o.shape.length !== 3 || !o.shape.every((x) => int(x, 1))) throw new CodecError('"shape" must be [C,H,W] of positive integers');
  const per = o.shape[0] * o.shape[1] * o.shape[2];
  if (per > MAX_ELEMENTS_PER_IMAGE) throw new CodecError(`images of ${per} values are too large`);
  if (!int(o.numClasses, 2) || (o.numClasses as number) > 100_000) throw new CodecError('"numClasses" must be an integer in [2, 100000]');
  if (o.dtype !== 'u8' && o.dtype !== 'f32') throw new CodecError('"dtype" must be "u8" or "f32"');
  if (typeof o.scale !== 'number' || !Number.isFinite(o.scale) || o.scale <= 0) throw new CodecError('"scale" must be a positive number');
  if (!int(o.train, 0) || !int(o.test, 0) || (o.train as number) + (o.test as number) < 1) throw new CodecError('"train" and "test" must be counts, not both 0');
  const header = { v: 1, name: o.name, shape: o.shape, numClasses: o.numClasses, dtype: o.dtype, scale: o.scale, train: o.train, test: o.test } as DatasetHeader;
  const bytes = payloadBytes(header);
  if (bytes > maxBytes) throw new CodecError(`data set of ${bytes} bytes exceeds the limit of ${maxBytes}`);
  return { header, bytes };
}

function payloadBytes(h: DatasetHeader): number {
  const per = h.shape[0] * h.shape[1] * h.shape[2];
  const el = h.dtype === 'u8' ? 1 : 4;
  return (h.train + h.test) * (per * el + 4);
}

export function datasetHeaderOf(d: Dataset): DatasetHeader {
  const dtype = d.train.images instanceof Uint8Array ? 'u8' : 'f32';
  if ((d.test.images instanceof Uint8Array ? 'u8' : 'f32') !== dtype) throw new Error(`${d.name}: train and test splits have different element types`);
  return { v: 1, name: d.name, shape: [...d.inputShape], numClasses: d.numClasses, dtype, scale: d.train.scale, train: d.train.count, test: d.test.count };
}

const bytesOf = (a: Uint8Array | Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The payload as a list of byte views (no copy), in layout order. */
export function datasetPayloadParts(d: Dataset): Buffer[] {
  return [bytesOf(d.train.images), bytesOf(d.train.labels), bytesOf(d.test.images), bytesOf(d.test.labels)];
}

export function encodeDatasetFile(d: Dataset): Buffer {
  const head = Buffer.from(JSON.stringify(datasetHeaderOf(d)), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  return Buffer.concat([Buffer.from('GDS1', 'latin1'), len, head, ...datasetPayloadParts(d)]);
}

/** Rebuilds a Dataset from header + payload, checking every label (untrusted input). */
export function decodeDatasetPayload(h: DatasetHeader, payload: Uint8Array): Dataset {
  if (payload.length !== payloadBytes(h)) throw new CodecError(`payload is ${payload.length} bytes, the header says ${payloadBytes(h)}`);
  const per = h.shape[0] * h.shape[1] * h.shape[2];
  let at = 0;
  const take = (n: number) => payload.slice(at, (at += n));
  const split = (count: number, what: string): Split => {
    const raw = take(count * per * (h.dtype === 'u8' ? 1 : 4));
    const images = h.dtype === 'u8' ? raw : new Float32Array(raw.buffer, raw.byteOffset, count * per);
    if (images instanceof Float32Array) for (let i = 0; i < images.length; i++) if (!Number.isFinite(images[i])) throw new CodecError(`${what} images hold a non-finite value`);
    const lb = take(count * 4);
    const labels = new Int32Array(lb.buffer, lb.byteOffset, count);
    for (let i = 0; i < count; i++) if (labels[i] < 0 || labels[i] >= h.numClasses) throw new CodecError(`${what} label ${i} is ${labels[i]}, outside [0, ${h.numClasses})`);
    return { images, labels, shape: [...h.shape], count, scale: h.scale };
  };
  const train = split(h.train, 'train');
  const test = split(h.test, 'test');
  return { name: h.name, train, test, numClasses: h.numClasses, inputShape: [...h.shape], augment: false };
}

export function decodeDatasetFile(b: Uint8Array, maxBytes = Number.MAX_SAFE_INTEGER): Dataset {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== 'GDS1') throw new CodecError('not a GDS1 data set file');
  const hl = buf.readUInt32LE(4);
  if (8 + hl > buf.length || hl > 64 * 1024) throw new CodecError('GDS1 header length is out of range');
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8', 8, 8 + hl));
  } catch {
    throw new CodecError('GDS1 header is not JSON');
  }
  const { header } = validateDatasetHeader(raw, maxBytes);
  return decodeDatasetPayload(header, buf.subarray(8 + hl));
}
