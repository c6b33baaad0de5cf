/**
 * The protocol's traffic formula per op attempt (DESIGN §3), in tensor
 * elements (4 bytes each on the wire), for sizes a = |A|, b = |B|, c = |C|:
 *
 *   online, single topology (one enclave feeds all workers)
 *     enclave → w0:  E, F            a + b        w0 → enclave: C0'   c
 *     enclave → w1:  A1, B1, E, F    2a + 2b      w1 → enclave: C1'   c
 *     enclave → w2:  (header only)   0            w2 → enclave: Z'    c
 *     enclave egress 3a + 3b, ingress 3c; one round per worker.
 *
 *   online, replicated topology
 *     e0 → w0: a + b;   e1 → w1: 2a + 2b;   e0 → w2: 0
 *     every worker sends its result to both replicas: 2c each.
 *
 * Worker 0 regenerates A0, B0 and CM0 from its seeds, so they never travel;
 * the prototype shipped them (goten-spec §2.4: 2a + 2b + c per enclave → host).
 * Each tensor is one frame; each op request adds one small JSON header frame
 * per fed worker. `frameSize` (net/frame.ts) gives the exact bytes of both.
 */
import { bilinearSizes, type BilinearOp } from '../backend/bilinear.js';

export interface WorkerTraffic {
  /** Elements the worker receives from enclave(s) per attempt (tensor payloads only). */
  readonly inElements: number;
  /** Int32 tensors (frames) those elements arrive in. */
  readonly inTensors: number;
  /** Elements of the result the worker sends to each subscribed enclave. */
  readonly outElements: number;
}

/** Per-worker traffic of one op attempt (same for both topologies, except results go to 1 or 2 enclaves). */
export function opTraffic(op: BilinearOp): readonly [WorkerTraffic, WorkerTraffic, WorkerTraffic] {
  const { a, b, c } = bilinearSizes(op);
  return [
    { inElements: a + b, inTensors: 2, outElements: c },
    { inElements: 2 * a + 2 * b, inTensors: 4, outElements: c },
    { inElements: 0, inTensors: 0, outElements: c },
  ];
}
