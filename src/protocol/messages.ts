/**
 * The op request header and its validation. Everything a worker receives is
 * untrusted input: the header is checked field by field (positive integer
 * dims, bounded tensor sizes, known layer kind and pass) before any buffer is
 * sized from it, and every received tensor is checked for length and for being
 * centred before it is computed with.
 */
import type { BilinearOp, BilinearPass } from '../backend/bilinear.js';
import { bilinearSizes } from '../backend/bilinear.js';
import { validateConvGeometry } from '../tensor/geometry.js';
import { isCentredArray } from '../field/share.js';
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';
import type { OpAttempt } from './op-attempt.js';

/** Largest tensor (elements) a worker accepts in one op: 2^27 (512 MiB as Int32). */
export const MAX_OP_ELEMENTS = 1 << 27;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** JSON body of an OpRequest frame. */
export interface OpHeader {
  readonly op: BilinearOp;
  readonly layer: number;
  readonly attempt: number;
}

export function opHeader(at: OpAttempt): OpHeader {
  return { op: at.op, layer: at.layer, attempt: at.attempt };
}

const PASSES: readonly BilinearPass[] = ['forward', 'grad-input', 'grad-weight'];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError(`op header: ${what} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Parses and validates an untrusted op header. Throws ProtocolError with the reason. */
export function parseOpHeader(v: unknown): OpAttempt {
  if (!isObj(v) || !isObj(v.op) || !isObj(v.op.geom)) throw new ProtocolError('op header: not an object with op.geom');
  const layer = int(v.layer, 'layer', 0, 65535);
  const attempt = int(v.attempt, 'attempt', 0, 2 ** 32 - 1);
  const pass = v.op.pass;
  if (typeof pass !== 'string' || !PASSES.includes(pass as BilinearPass)) throw new ProtocolError(`op header: unknown pass ${JSON.stringify(pass)}`);
  const g = v.op.geom;
  const D = 1 << 24;
  let op: BilinearOp;
  if (v.op.layer === 'linear') {
    op = {
      layer: 'linear',
      pass: pass as BilinearPass,
      geom: { batch: int(g.batch, 'batch', 1, D), inF: int(g.inF, 'inF', 1, D), outF: int(g.outF, 'outF', 1, D) },
    };
  } else if (v.op.layer === 'conv') {
    const geom = {
      batch: int(g.batch, 'batch', 1, D),
      inC: int(g.inC, 'inC', 1, D),
      inH: int(g.inH, 'inH', 1, D),
      inW: int(g.inW, 'inW', 1, D),
      outC: int(g.outC, 'outC', 1, D),
      kH: int(g.kH, 'kH', 1, 1024),
      kW: int(g.kW, 'kW', 1, 1024),
      strideH: int(g.strideH, 'strideH', 1, 1024),
      strideW: int(g.strideW, 'strideW', 1, 1024),
      padH: int(g.padH, 'padH', 0, 1024),
      padW: int(g.padW, 'padW', 0, 1024),
    };
    try {
      validateConvGeometry(geom);
    } catch (err) {
      throw new ProtocolError(`op header: ${(err as Error).message}`);
    }
    op = { layer: 'conv', pass: pass as BilinearPass, geom };
  } else {
    throw new ProtocolError(`op header: unknown layer kind ${JSON.stringify(v.op.layer)}`);
  }
  const sz = bilinearSizes(op);
  for (const [name, n] of Object.entries(sz)) {
    if (name !== 'k' && n > MAX_OP_ELEMENTS) throw new ProtocolError(`op header: tensor ${name} of ${n} elements exceeds ${MAX_OP_ELEMENTS}`);
  }
  return { op, layer, attempt };
}

/**
 * Checks an untrusted Int32 tensor: exact length and centred values (`centred`: the check to
 * use, e.g. a native one; null when the caller checks the values itself, fused into its next pass).
 */
export function checkShareTensor(
  data: unknown,
  n: number,
  what: string,
  centred: ((v: Int32Array) => boolean) | null = isCentredArray,
): Int32Array {
  if (!(data instanceof Int32Array)) throw new ProtocolError(`${what}: expected an int32 tensor`);
  if (data.length !== n) throw new ProtocolError(`${what}: expected ${n} elements, got ${data.length}`);
  if (centred && !centred(data)) throw new ProtocolError(`${what}: values outside the centred range of Z_P`);
  return data;
}

/** Checks an untrusted packed tensor's length (3·n bytes); its values are checked where they are unpacked. */
export function checkPackedTensor(data: unknown, n: number, what: string): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new ProtocolError(`${what}: expected an int24 (packed) tensor`);
  if (data.length !== 3 * n) throw new ProtocolError(`${what}: expected ${n} packed elements, got ${data.length / 3}`);
  return data;
}

/** Traffic label of an op (counters group bytes by it). */
export function opLabel(at: OpAttempt): string {
  return `L${at.layer}.${at.op.layer}.${at.op.pass}`;
}

/** Tells a worker the session is over (Bye), unless the connection is already closed; a failed send is ignored. */
export async function sayBye(conn: Connection): Promise<void> {
  if (!conn.isClosed) await conn.send({ type: MsgType.Bye, dtype: 'json', value: {} }).catch(() => {});
}
