/**
 * Who sent a wrong result, in the lean protocol (docs/protocol.md, Verification). The enclave receives only
 * the aggregate S = C0' + C1' + Z' from worker 1, so after a failed check of C it asks every worker for its
 * own part of the attempt (a Control `{kind: 'parts'}`; roles/lean-worker-op.ts keeps the last op's parts),
 * and worker 1 also for the parts it received. Holding every key, it checks each worker's own part against
 * the worker's formula (lean-compute.ts) with a fresh projection (freivalds.ts):
 *
 *   w0:  C0' + CM0               == f(A0, F) + f(E, B0 − F)
 *   w1:  C1' + CM1               == f(A1, F) + f(E, B1)        (A1 = AQ − A0, B1 = BQ − B0)
 *   w2:  Z'  + (T − CM0 − CM1)   == f(U, V)                    (online only; offline the enclave's own Z̃)
 *
 * with A0 = S0(a), U = S0(a) + D(a), E = AQ − U (and the same for B). A worker whose part fails, or who does
 * not answer, is named. When every part passes, the fault is in the aggregation: worker 1's copy of a part
 * that differs from what its sender reports names both (one of them is lying; the enclave cannot tell which
 * without signed links), otherwise worker 1's sum. Runs only after a failure; every answer is untrusted
 * (lengths, centred values, a bounded wait).
 */
import { bilinearSizes } from '../backend/bilinear.js';
import { addModP, subModP } from '../field/share.js';
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import type { PartCheck } from './goten-culprit.js';
import { type LeanAttempt, operandStream } from './lean-op.js';
import { ProtocolError, checkPackedTensor } from './messages.js';
import type { MaskKeys } from './op-streams.js';
import { type Culprit, sameElements } from './product-verifier.js';

/** What each worker reported for the attempt (part name → values); null: no usable answer. */
export type LeanReports = readonly (ReadonlyMap<string, Int32Array> | null)[];

/** The names a worker may report: its own part, and worker 1 the parts it received. */
const PART_NAMES = new Set(["C0'", "C1'", "Z'"]);

/** Asks one worker for its parts of op `opId` (n elements each). Throws on any malformed or missing answer. */
async function askParts(conn: Connection, kernels: EnclaveKernels, opId: number, n: number, timeoutMs?: number): Promise<Map<string, Int32Array>> {
  await conn.send({ type: MsgType.Control, opId, dtype: 'json', value: { kind: 'parts' } });
  const head = await conn.expect(MsgType.Control, { opId, timeoutMs });
  const names = head.dtype === 'json' ? (head.value as { names?: unknown } | null)?.names : undefined;
  head.release();
  if (!Array.isArray(names) || names.length > PART_NAMES.size || !names.every((x) => PART_NAMES.has(x)) || new Set(names).size !== names.length) {
    throw new ProtocolError(`${conn.peer}: malformed answer to a parts request`);
  }
  const parts = new Map<string, Int32Array>();
  for (const name of names as string[]) {
    const m = await conn.expect(MsgType.Result, { opId, timeoutMs });
    try {
      const v = new Int32Array(n);
      if (!kernels.unpack(checkPackedTensor(m.dtype === 'int24' ? m.data : null, n, `part ${name} from ${conn.peer}`), v)) {
        throw new ProtocolError(`part ${name} from ${conn.peer}: values outside the centred range of Z_P`);
      }
      parts.set(name, v);
    } finally {
      m.release();
    }
  }
  return parts;
}

/** Every worker's answer (workers 0, 1 and, online, 2), asked concurrently; a worker that fails to answer reports null. */
export async function collectLeanReports(workers: readonly Connection[], kernels: EnclaveKernels, opId: number, n: number, timeoutMs?: number): Promise<LeanReports> {
  const answers = await Promise.allSettled(workers.map((w) => askParts(w, kernels, opId, n, timeoutMs)));
  return answers.map((a) => (a.status === 'fulfilled' ? a.value : null));
}

/** The culprit sentence for a failed lean attempt, from the workers' reports. */
export function leanCulprit(pc: PartCheck, kernels: EnclaveKernels, keys: MaskKeys, at: LeanAttempt, aq: Int32Array, bq: Int32Array, reports: LeanReports, online: boolean): Culprit {
  const sz = bilinearSizes(at.op);
  const [ra, rb] = at.operands;
  const draw = (key: Uint8Array, r: typeof ra, n: number) => kernels.fillCentred(operandStream(key, at.layer, r), new Int32Array(n));
  const [a0, b0] = [draw(keys.S0, ra, sz.a), draw(keys.S0, rb, sz.b)];
  const u = addModP(a0, draw(keys.D, ra, sz.a), new Int32Array(sz.a));
  const v = addModP(b0, draw(keys.D, rb, sz.b), new Int32Array(sz.b));
  const e = subModP(aq, u, new Int32Array(sz.a));
  const f = subModP(bq, v, new Int32Array(sz.b));
  const own = (w: number, name: string) => reports[w]?.get(name) ?? null;
  const checks: [number, string, () => boolean][] = [
    [0, "C0'", () => pc.holds(own(0, "C0'")!, pc.mask('CM0', sz.c), [[a0, f], [e, subModP(b0, f, new Int32Array(sz.b))]])],
    [1, "C1'", () => pc.holds(own(1, "C1'")!, pc.mask('CM1', sz.c), [[subModP(aq, a0, new Int32Array(sz.a)), f], [e, subModP(bq, b0, new Int32Array(sz.b))]])],
  ];
  if (online) {
    const cmz = subModP(pc.mask('T', sz.c), addModP(pc.mask('CM0', sz.c), pc.mask('CM1', sz.c), new Int32Array(sz.c)), new Int32Array(sz.c));
    checks.push([2, "Z'", () => pc.holds(own(2, "Z'")!, cmz, [[u, v]])]);
  }
  const bad: string[] = [];
  const who: string[] = [];
  for (const [w, name, holds] of checks) {
    if (!own(w, name)) (bad.push(`worker w${w} (which did not report its part ${name})`), who.push(`w${w}`));
    else if (!holds()) (bad.push(`worker w${w}'s result ${name}`), who.push(`w${w}`));
  }
  if (bad.length > 0) return { text: `${bad.join(' and ')} failed verification`, parties: who };
  for (const [w, name] of checks.filter(([w]) => w !== 1)) {
    const got = own(1, name);
    if (!got || !sameElements(got, own(w, name)!)) {
      // either may lie: no single culprit, so no spare replaces anyone
      return { text: `worker w1's aggregate failed verification: worker w${w} reports a different ${name} than worker w1 received (one of them is lying)`, parties: [] };
    }
  }
  return { text: "worker w1's aggregate S failed verification (every part passes on its own; their sum does not)", parties: ['w1'] };
}
