/**
 * The protocols' traffic formulas per op attempt (docs/protocol.md), in tensor elements,
 * for sizes a = |A|, b = |B|, c = |C|. Each tensor is one frame; each op request adds one
 * small JSON header frame per fed worker. `frameSize` (net/frame.ts) gives the exact bytes.
 *
 * goten (the paper's), 4 bytes per element:
 *   enclave → w0:  E, F            a + b        w0 → enclave: C0'   c
 *   enclave → w1:  A1, B1, E, F    2a + 2b      w1 → enclave: C1'   c
 *   enclave → w2:  (header only)   0            w2 → enclave: Z'    c   (online)
 *   enclave egress 3a + 3b, ingress 3c (2c offline); replicated: e0 feeds w0 and w2,
 *   e1 feeds w1, every worker sends its result to both replicas.
 *
 * lean, 3 bytes per element; fA, fB ∈ {0, 1}: whether A's / B's version is fresh in this
 * attempt (operands.ts: within a step, W and X leave once for forward, dY once for
 * grad-weight, and grad-input sends nothing):
 *   enclave → w0:  E, F (if fresh) fA·a + fB·b  w0 → enclave: —
 *   enclave → w1:  —               0            w1 → enclave: S     c
 *   enclave → w2:  (header only)   0            w2 → enclave: —
 *   w0 → w1: the header, fA·a + fB·b (E, F relayed) + c (C0');   w2 → w1: c (Z', online)
 *   enclave egress fA·a + fB·b ≤ a + b, ingress c; replicated: e0 feeds w0 and w2, e1
 *   sends nothing, and w1 sends S to both replicas.
 */
import { bilinearSizes, type BilinearOp } from '../backend/bilinear.js';
import type { ProtocolName } from './variant.js';

/** Bytes per tensor element on the wire. */
export const ELEMENT_BYTES: Readonly<Record<ProtocolName, number>> = { goten: 4, lean: 3 };

export interface WorkerTraffic {
  /** Elements the worker receives from enclave(s) per attempt (tensor payloads only). */
  readonly inElements: number;
  /** Tensors (frames) those elements arrive in. */
  readonly inTensors: number;
  /** Elements the worker sends to each subscribed enclave. */
  readonly outElements: number;
}

/** Elements on the links between workers in one lean attempt. */
export interface WorkerLinkTraffic {
  /** E and F relayed, C0' */
  readonly w0ToW1: number;
  /** Z' (online) */
  readonly w2ToW1: number;
}

/** Per-worker traffic of one attempt of the paper's protocol (same for both topologies, except results go to 1 or 2 enclaves). */
export function opTraffic(op: BilinearOp): readonly [WorkerTraffic, WorkerTraffic, WorkerTraffic] {
  const { a, b, c } = bilinearSizes(op);
  return [
    { inElements: a + b, inTensors: 2, outElements: c },
    { inElements: 2 * a + 2 * b, inTensors: 4, outElements: c },
    { inElements: 0, inTensors: 0, outElements: c },
  ];
}

/** Per-worker traffic with the enclave(s) in one lean attempt whose operand versions are fresh or not. */
export function leanTraffic(op: BilinearOp, freshA: boolean, freshB: boolean): readonly [WorkerTraffic, WorkerTraffic, WorkerTraffic] {
  const { a, b, c } = bilinearSizes(op);
  return [
    { inElements: (freshA ? a : 0) + (freshB ? b : 0), inTensors: Number(freshA) + Number(freshB), outElements: 0 },
    { inElements: 0, inTensors: 0, outElements: c },
    { inElements: 0, inTensors: 0, outElements: 0 },
  ];
}

/** The lean attempt's traffic between workers (online: with worker 2). */
export function leanLinkTraffic(op: BilinearOp, freshA: boolean, freshB: boolean, online: boolean): WorkerLinkTraffic {
  const { a, b, c } = bilinearSizes(op);
  return { w0ToW1: (freshA ? a : 0) + (freshB ? b : 0) + c, w2ToW1: online ? c : 0 };
}
