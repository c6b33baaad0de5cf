/**
 * One attempt of the paper's protocol (docs/protocol.md; worker formulas in worker-compute.ts):
 *
 *   1–3. prepareAttempt: quantize A, B; E = AQ − U, F = BQ − V; A1 = AQ − A0, B1 = BQ − B0
 *   4.   send   w0 ← header, E, F        w1 ← header, A1, B1, E, F
 *        (only the workers this enclave feeds; see enclave-op.ts), and the mask
 *        source's request (online: w2 ← header)
 *   5.   workers compute C0', C1'; the mask source yields the third part T
 *   6.   C = centre(C0' + C1' + T + Σ_{m ∈ M} CM_m) · 2^(eA + eB − 12), guarded, in one
 *        fused sweep that draws the output masks M
 *   7.   verification on (verify-attempt.ts): C is checked against AQ, BQ before it is returned,
 *        and a failed check checks each worker's part on its own (goten-culprit.ts)
 *
 * Every op moves 3(a + b) elements out of the enclave and 3c in (traffic.ts), 4 bytes each.
 */
import { bilinearSizes } from '../backend/bilinear.js';
import { MsgType } from '../net/message-types.js';
import type { AttemptEnv, AttemptState } from './attempt.js';
import { NonCentredPartError } from './enclave-kernels.js';
import { maskStream, prepareAttempt } from './enclave-op.js';
import { receiveResult } from './mask-source.js';
import { ProtocolError, opHeader } from './messages.js';

export async function gotenAttempt(env: AttemptEnv, x: AttemptState, a: Float32Array, b: Float32Array, c: Float32Array): Promise<number> {
  const { feeds, keys, noiseKey, workers, kernels, masks } = env;
  const { at, opId, label, digest } = x;
  const [ua, ub] = x.uses;
  const prep = prepareAttempt(feeds, keys, noiseKey, at, ua, ub, a, b, x.bufs, kernels, x.verify?.bufs ?? (digest ? x.bufs : null));
  if (x.verify) [x.verify.q[0], x.verify.q[1]] = [prep.aq, prep.bq];
  if (digest) {
    digest.update(Int32Array.of(at.layer, at.attempt, ua.exp, ub.exp));
    digest.update(prep.aq!).update(prep.bq!);
  }
  const header = { type: MsgType.OpRequest, opId, label, dtype: 'json' as const, value: opHeader(at) };
  const share = (data: Int32Array) => ({ type: MsgType.Shares, opId, label, dtype: 'int32' as const, data });
  const out: Promise<void>[] = [];
  if (feeds.w0) out.push(workers[0].send(header), workers[0].send(share(prep.e)), workers[0].send(share(prep.f)));
  if (feeds.w1) {
    const w = workers[1];
    out.push(w.send(header), w.send(share(prep.a1!)), w.send(share(prep.b1!)), w.send(share(prep.e)), w.send(share(prep.f)));
  }
  out.push(masks.request(at, opId, label));
  const n = bilinearSizes(at.op).c;
  // a failed send also fails its worker's result below, which is what we report
  const sent = x.sends.track(out);
  const parts = await Promise.allSettled([
    // values are checked inside the fused reconstruction below (parts 0 and 1)
    receiveResult(workers[0], 'worker 0', opId, n, env.timeoutMs, null),
    receiveResult(workers[1], 'worker 1', opId, n, env.timeoutMs, null),
    masks.take(at, opId, n),
  ]);
  try {
    const bad = parts.find((p) => p.status === 'rejected');
    if (bad) throw (bad as PromiseRejectedResult).reason;
    await sent;
    const data = parts.map((p) => (p as PromiseFulfilledResult<{ data: Int32Array } | null>).value!.data);
    // step 6, fused: draws the output masks M and reconstructs, dequantizes and guards in one sweep
    const drawn = masks.outputMasks.map((name) => maskStream(keys, name, at));
    let maxAbs: number;
    try {
      maxAbs = kernels.reconstructDequantize(data, drawn, ua.exp + ub.exp - 12, c, 2);
    } catch (err) {
      if (!(err instanceof NonCentredPartError)) throw err;
      const e = new ProtocolError(`result of worker ${err.part}: values outside the centred range of Z_P`);
      workers[err.part].destroy(e);
      throw e;
    }
    // step 7 (verification on): C is checked against AQ, BQ; on failure each part is checked on its own
    await x.verify?.check(c, [ua, ub], { goten: data });
    return maxAbs;
  } finally {
    for (const p of parts) if (p.status === 'fulfilled') p.value?.release();
  }
}
