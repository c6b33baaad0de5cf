/**
 * The lean protocol's op request and stream naming (docs/protocol.md; the algebra is in
 * lean-compute.ts). An attempt names its two operand versions (operands.ts); the masks of
 * an operand are drawn per version, the output masks per attempt:
 *
 *   operand X (kind K, version v of layer L)   S0(X) = stream(S0, operandStreamId(L, K, v))
 *                                              D(X)  = stream(D,  operandStreamId(L, K, v))
 *                                              mask U(X) = S0(X) + D(X)
 *   output of attempt t of (L, pass)           CM0, CM1, T = stream(·, opStreamId(L, pass, t))
 *
 * The header adds to the paper's (op, layer, attempt) the refs of A and B: kind, version,
 * and whether its masked form travels with this attempt (`fresh`) or the workers hold it
 * from an earlier op of the step.
 */
import { OPERAND_KINDS, type OperandKind, operandKinds } from '../backend/bilinear.js';
import type { StreamRef } from './enclave-kernels.js';
import { ProtocolError, parseOpHeader } from './messages.js';
import type { OpAttempt, OperandRef } from './op-attempt.js';
import { SLOT_MAIN, operandStreamId } from './op-streams.js';
import type { OperandUse } from './operands.js';

/** An attempt of the lean protocol: its operand refs are always present. */
export type LeanAttempt = OpAttempt & { readonly operands: readonly [OperandRef, OperandRef] };

export function operandRef(use: OperandUse): OperandRef {
  return { kind: use.kind, version: use.version, fresh: use.fresh };
}

/** JSON body of a lean OpRequest. */
export function leanHeader(at: LeanAttempt): unknown {
  const [a, b] = at.operands;
  return { op: at.op, layer: at.layer, attempt: at.attempt, a, b };
}

function parseRef(v: unknown, expected: OperandKind, side: string): OperandRef {
  const r = v as { kind?: unknown; version?: unknown; fresh?: unknown } | null;
  if (typeof r !== 'object' || r === null) throw new ProtocolError(`op header: operand ${side} must be an object`);
  if (!OPERAND_KINDS.includes(r.kind as OperandKind) || r.kind !== expected) {
    throw new ProtocolError(`op header: operand ${side} must be of kind ${expected}, got ${JSON.stringify(r.kind)}`);
  }
  if (typeof r.version !== 'number' || !Number.isInteger(r.version) || r.version < 0 || r.version > 2 ** 32 - 1) {
    throw new ProtocolError(`op header: operand ${side} version must be an integer in [0, 2^32), got ${JSON.stringify(r.version)}`);
  }
  if (typeof r.fresh !== 'boolean') throw new ProtocolError(`op header: operand ${side} needs a boolean 'fresh'`);
  return { kind: r.kind as OperandKind, version: r.version, fresh: r.fresh };
}

/** Parses and validates an untrusted lean op header. Throws ProtocolError with the reason. */
export function parseLeanHeader(v: unknown): LeanAttempt {
  const at = parseOpHeader(v);
  const body = v as { a?: unknown; b?: unknown };
  const [ka, kb] = operandKinds(at.op.pass);
  return { ...at, operands: [parseRef(body.a, ka, 'a'), parseRef(body.b, kb, 'b')] };
}

/** The S0 or D stream of an operand version of layer `layer`. */
export function operandStream(key: Uint8Array, layer: number, r: { readonly kind: OperandKind; readonly version: number }): StreamRef {
  return { key, id: operandStreamId(layer, r.kind, r.version, SLOT_MAIN) };
}
