/**
 * The two secure protocols for one linear op (docs/protocol.md). The workers' products are
 * the same in both; they differ in who sends what:
 *
 *   goten  the paper's: the enclave sends E, F to worker 0 and A1, B1, E, F to worker 1 for
 *          every op, and receives C0', C1' and Z' — 3(a + b) elements out, 3c in;
 *   lean   worker 1 derives its shares from E, F and seeds, each operand version (W, X, dY)
 *          leaves the enclave once per step, packed 3 bytes per element, the workers
 *          exchange what the other needs and worker 1 aggregates — at most (a + b) out, c in.
 */
export const PROTOCOLS = ['lean', 'goten'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];
export const DEFAULT_PROTOCOL: ProtocolName = 'lean';

export function isProtocolName(v: unknown): v is ProtocolName {
  return v === 'lean' || v === 'goten';
}

/** Parses a --protocol value; RangeError naming the choices otherwise. */
export function parseProtocol(v: string): ProtocolName {
  if (!isProtocolName(v)) throw new RangeError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got '${v}'`);
  return v;
}
