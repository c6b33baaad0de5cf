/**
 * Testing only: `goten worker --inject-fault <kind>:<op>` makes this worker misbehave on purpose at its
 * op number <op> (counted from 1 over every op this worker process computes), so that verification and
 * the enclave's handling of dead or stalled workers can be shown from the command line:
 *
 *   corrupt  adds 1 (mod P, kept centred) to element 0 of its result before it is sent: worker 0's C0',
 *            worker 1's C1' (lean: before it adds the other parts), worker 2's Z' (→ --verify catches it)
 *   stall    stops the whole process (SIGSTOP) instead of answering, like a hung machine (→ --op-timeout)
 *   crash    kills the process (SIGKILL) instead of answering, like a crashed machine
 *
 * Never active unless the flag is given; arming and every injection are logged loudly (stderr writes to
 * a pipe or terminal are synchronous here, so the line is out before the process stops or dies).
 */
import { HALF } from '../field/prime.js';

export const FAULT_KINDS = ['corrupt', 'stall', 'crash'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  readonly kind: FaultKind;
  /** 1-based op number of this worker. */
  readonly op: number;
}

export function parseFault(s: string): FaultSpec {
  const m = /^(corrupt|stall|crash):([1-9][0-9]{0,9})$/.exec(s);
  if (!m) throw new Error(`--inject-fault must be corrupt:<op>, stall:<op> or crash:<op> with <op> a positive integer, got '${s}'`);
  return { kind: m[1] as FaultKind, op: Number(m[2]) };
}

const ARMED: Readonly<Record<FaultKind, string>> = {
  corrupt: 'will return a wrong result',
  stall: 'will stop the process (SIGSTOP) instead of answering',
  crash: 'will kill the process (SIGKILL) instead of answering',
};

/** A result hook for WorkerService: misbehaves at op number `spec.op`. */
export function faultInjector(spec: FaultSpec, party: number | string, log: (line: string) => void): (out: Int32Array) => void {
  let n = 0;
  log(`worker ${party}: FAULT INJECTION ARMED (--inject-fault ${spec.kind}:${spec.op}): op ${spec.op} ${ARMED[spec.kind]}`);
  return (out) => {
    if (++n !== spec.op) return;
    switch (spec.kind) {
      case 'corrupt':
        if (out.length === 0) return;
        out[0] = out[0] === HALF ? -HALF : out[0] + 1;
        log(`worker ${party}: FAULT INJECTED: added 1 to element 0 of the result of op ${n}`);
        return;
      case 'stall':
        log(`worker ${party}: FAULT INJECTED: stalling (SIGSTOP) at op ${n}`);
        process.kill(process.pid, 'SIGSTOP');
        return;
      case 'crash':
        log(`worker ${party}: FAULT INJECTED: crashing (SIGKILL) at op ${n}`);
        process.kill(process.pid, 'SIGKILL');
        return;
    }
  };
}
