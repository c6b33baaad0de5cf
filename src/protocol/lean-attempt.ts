/**
 * One attempt of the lean protocol, enclave side (docs/protocol.md; the workers' part is
 * lean-compute.ts and roles/lean-worker-op.ts):
 *
 *   1. request   header → w2 (first: it needs no data) and → w0
 *   2. operands  for each fresh operand version X (operands.ts): e = quantize(X) − S0(X) − D(X),
 *                packed 3 bytes per element in one sweep, → w0, which relays the header and
 *                the operands to w1; both keep every version for the rest of the step. A reused
 *                version costs nothing here: the workers hold it.
 *   3. receive   S = C − T from w1, packed
 *   4. C = centre(S + T (+ Z̃ offline)) · 2^(eA + eB − 12), guarded, in one fused sweep that
 *      draws T and checks S
 *   5. with verification on (verify-attempt.ts): C is checked against AQ, BQ before it is returned;
 *      the fresh sides' AQ, BQ come from the operand sweep above; after a failure every worker is asked
 *      for its own part, which names the culprit (lean-culprit.ts)
 *
 * Per op at most (a + b) elements leave the enclave and c come in, 3 bytes each (traffic.ts),
 * through two connections written (w0, w2) and one read (w1). Replicated topology: e0 feeds
 * w0 and w2, e1 sends nothing; both hash every fresh quantized operand into the step's digest
 * (so both quantize), and both receive S.
 */
import { bilinearSizes } from '../backend/bilinear.js';
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';
import type { AttemptEnv, AttemptState } from './attempt.js';
import { NonCentredPartError, type FieldPart } from './enclave-kernels.js';
import { collectLeanReports } from './lean-culprit.js';
import { maskStream } from './enclave-op.js';
import { type LeanAttempt, leanHeader, operandStream } from './lean-op.js';
import { receivePackedResult } from './mask-source.js';
import { ProtocolError } from './messages.js';
import { noiseStream } from './op-quantize.js';
import type { OperandUse } from './operands.js';

export async function leanAttempt(env: AttemptEnv, x: AttemptState, a: Float32Array, b: Float32Array, c: Float32Array): Promise<number> {
  const { feeds, keys, noiseKey, workers, kernels, masks } = env;
  const { opId, label, digest, bufs } = x;
  const at = x.at as LeanAttempt;
  const out: Promise<void>[] = [masks.request(at, opId, label)];
  if (feeds.w0) out.push(workers[0].send({ type: MsgType.OpRequest, opId, label, dtype: 'json', value: leanHeader(at) }));
  // a fresh version is quantized, masked and packed in one sweep that also scans max|x|: with a guessed
  // exponent (operands.ts) the scan confirms it, and a wrong guess (rare) is swept again
  const operand = (v: Float32Array, use: OperandUse, tag: string, to: Connection | null, side: 0 | 1): OperandUse => {
    if (!use.fresh) return use;
    // AQ for the check outlives the sends (the check's buffers); for the digest alone it is used at once
    const q = x.verify ? x.verify.bufs.int32(`${tag}q`, v.length) : digest ? bufs.int32(`${tag}q`, v.length) : null;
    if (x.verify) x.verify.q[side] = q;
    const packed = to ? bufs.uint8(`${tag}e`, 3 * v.length) : null;
    const sweep = (exp: number) =>
      kernels.quantizeMaskPack(v, exp, noiseStream(noiseKey, at.layer, use), operandStream(keys.S0, at.layer, use), operandStream(keys.D, at.layer, use), q, packed);
    if (!q && !packed) return use.guessed ? x.confirm(use, kernels.maxAbs(v)) : use;
    const max = sweep(use.exp);
    const real = use.guessed ? x.confirm(use, max) : use;
    if (real.exp !== use.exp) sweep(real.exp);
    if (q && digest) digest.update(q);
    if (packed) out.push(to!.send({ type: MsgType.Shares, opId, label, dtype: 'int24', data: packed }));
    return real;
  };
  // both to worker 0, which relays them (and the header) to worker 1
  const ua = operand(a, x.uses[0], 'l.a', feeds.w0 ? workers[0] : null, 0);
  const ub = operand(b, x.uses[1], 'l.b', feeds.w0 ? workers[0] : null, 1);
  digest?.update(Int32Array.of(at.layer, at.attempt, ua.version, ub.version, ua.exp, ub.exp));
  const n = bilinearSizes(at.op).c;
  // a failed send also fails the result below (worker 1 waits for the other's operands), which is what we report
  const sent = x.sends.track(out);
  const [s, t] = await Promise.allSettled([receivePackedResult(workers[1], 'worker 1', opId, n, env.timeoutMs), masks.take(at, opId, n)]);
  try {
    if (s.status === 'rejected') throw s.reason;
    if (t.status === 'rejected') throw t.reason;
    await sent;
    const parts: FieldPart[] = t.value ? [s.value.data, t.value.data] : [s.value.data];
    const drawn = masks.outputMasks.map((name) => maskStream(keys, name, at));
    let maxAbs: number;
    try {
      maxAbs = kernels.reconstructDequantize(parts, drawn, ua.exp + ub.exp - 12, c, 1);
    } catch (err) {
      if (!(err instanceof NonCentredPartError)) throw err;
      const e = new ProtocolError('result of worker 1: values outside the centred range of Z_P');
      workers[1].destroy(e);
      throw e;
    }
    await x.verify?.check(c, [ua, ub], { lean: () => collectLeanReports(workers, kernels, opId, n, env.timeoutMs) });
    return maxAbs;
  } finally {
    if (s.status === 'fulfilled') s.value.release();
    if (t.status === 'fulfilled') t.value?.release();
  }
}
