/**
 * Testing only: `goten worker --inject-fault corrupt:<op>` makes this worker return a wrong result on
 * purpose, so that verification (protocol/product-verifier.ts) can be shown from the command line. The
 * worker's op number <op> (counted from 1 over every op this worker process computes) gets 1 added
 * (mod P, kept centred) to element 0 of its result before it is sent: worker 0's C0', worker 1's C1'
 * (lean: before it adds the other parts), worker 2's Z'. Never active unless the flag is given; every
 * injection is logged loudly.
 */
import { HALF } from '../field/prime.js';

export interface FaultSpec {
  readonly kind: 'corrupt';
  /** 1-based op number of this worker. */
  readonly op: number;
}

export function parseFault(s: string): FaultSpec {
  const m = /^corrupt:([1-9][0-9]{0,9})$/.exec(s);
  if (!m) throw new Error(`--inject-fault must be corrupt:<op> with <op> a positive integer, got '${s}'`);
  return { kind: 'corrupt', op: Number(m[1]) };
}

/** A result hook for WorkerService: corrupts the result of op number `spec.op`. */
export function faultInjector(spec: FaultSpec, party: number, log: (line: string) => void): (out: Int32Array) => void {
  let n = 0;
  log(`worker ${party}: FAULT INJECTION ARMED (--inject-fault corrupt:${spec.op}): op ${spec.op} will return a wrong result`);
  return (out) => {
    if (++n !== spec.op || out.length === 0) return;
    out[0] = out[0] === HALF ? -HALF : out[0] + 1;
    log(`worker ${party}: FAULT INJECTED: added 1 to element 0 of the result of op ${n}`);
  };
}
