/**
 * Measured bytes per op match the protocols' formulas (protocol/traffic.ts): every frame
 * on every enclave–worker connection and (lean) every worker–worker link, per op label.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { bilinearSizes, operandKinds, type BilinearOp } from '../../src/backend/bilinear.js';
import { frameSize } from '../../src/net/frame.js';
import { MsgType } from '../../src/net/message-types.js';
import { inprocTransport } from '../../src/net/inproc.js';
import { DelegatingExecutor, type OpTag, type OperandReuse, type RunOptions } from '../../src/nn/executor.js';
import { leanHeader } from '../../src/protocol/lean-op.js';
import { opHeader, opLabel } from '../../src/protocol/messages.js';
import type { OpAttempt } from '../../src/protocol/op-attempt.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { leanLinkTraffic, leanTraffic, opTraffic } from '../../src/protocol/traffic.js';
import type { ProtocolName } from '../../src/protocol/variant.js';
import { startLocalCluster, type Topology } from '../../src/roles/local-cluster.js';
import { oddBatch, oddModel } from './helpers.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';

/** Remembers every op as the layers handed it over. */
class OpLog extends DelegatingExecutor {
  readonly ops: { op: BilinearOp; tag: OpTag; reuse: OperandReuse }[] = [];
  override async run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts: RunOptions = {}) {
    this.ops.push({ op, tag, reuse: opts.reuse ?? { a: false, b: false } });
    await this.inner.run(op, tag, a, b, c, opts);
  }
}

function tensorFrame(label: string, n: number, protocol: ProtocolName): number {
  const msg = protocol === 'lean' ? { dtype: 'int24' as const, data: new Uint8Array(3 * n) } : { dtype: 'int32' as const, data: new Int32Array(n) };
  return frameSize({ type: MsgType.Shares, opId: 1, label, ...msg });
}

const sum = (xs: number[]) => xs.reduce((p, n) => p + n, 0);

async function measure(protocol: ProtocolName, topology: Topology): Promise<void> {
  const cluster = await startLocalCluster({
    protocol,
    backend: createJsBackend(),
    topology,
    noiseKey: noiseKeyFromSeed(5),
    transport: inprocTransport('wire'), // the real codec: bytes as on a socket
  });
  try {
    const logs = cluster.executors.map((e) => new OpLog(e));
    const models = logs.map((l) => oddModel(5, l));
    const { x, y } = oddBatch(3, 9);
    await Promise.all(
      models.map(async (m) => {
        const logits = await m.forward(x, true);
        m.zeroGrad();
        await m.backward(softmaxCrossEntropy(logits, y).grad);
      }),
    );
    assert.equal(cluster.executors[0].stats().overflows, 0, 'no retries, so one attempt per op');
    const feeds = protocol === 'lean' ? [[0, 2], []] : topology === 'single' ? [[0, 1, 2]] : [[0, 2], [1]];
    let leanEgress = 0;
    for (let e = 0; e < cluster.executors.length; e++) {
      for (const { op, tag, reuse } of logs[e].ops) {
        // the first forward+backward: attempt 0, operand versions 0, fresh unless reused
        const [ka, kb] = operandKinds(op.pass);
        const at: OpAttempt = { op, layer: tag.index, attempt: 0, operands: [{ kind: ka, version: 0, fresh: !reuse.a }, { kind: kb, version: 0, fresh: !reuse.b }] };
        const label = opLabel(at);
        const header = frameSize({ type: MsgType.OpRequest, opId: 1, label, dtype: 'json', value: protocol === 'lean' ? leanHeader(at as never) : opHeader(at) });
        const t = protocol === 'lean' ? leanTraffic(op, !reuse.a, !reuse.b) : opTraffic(op);
        const { a, b } = bilinearSizes(op);
        for (let w = 0; w < 3; w++) {
          const s = cluster.connections[e][w].counters.snapshot().byLabel[label];
          const fed = feeds[e].includes(w);
          const sizes =
            protocol === 'lean' ? (w === 0 ? [...(reuse.a ? [] : [a]), ...(reuse.b ? [] : [b])] : []) : w === 0 ? [a, b] : w === 1 ? [a, b, a, b] : [];
          const expectSent = fed ? header + sum(sizes.map((n) => tensorFrame(label, n, protocol))) : 0;
          assert.equal(s?.sent.bytes ?? 0, expectSent, `enclave ${e} → w${w}, ${label}: bytes sent`);
          if (fed) {
            assert.equal(sum(sizes), t[w].inElements, 'formula: elements in');
            leanEgress += protocol === 'lean' ? sum(sizes) : 0;
          }
          const results = t[w].outElements > 0 ? 1 : 0;
          assert.equal(s?.received.bytes ?? 0, results * tensorFrame(label, t[w].outElements, protocol), `w${w} → enclave ${e}, ${label}: bytes received`);
          assert.equal(s?.received.frames ?? 0, results);
          if (fed) assert.equal(s.rounds, results, 'one round per op and worker that answers');
        }
        if (protocol === 'lean' && e === 0) {
          // the workers' links: w0 → w1 (the header, E and F relayed, C0') and w2 → w1 (Z')
          const lt = leanLinkTraffic(op, !reuse.a, !reuse.b, true);
          const w0 = cluster.links[0].w1!.counters.snapshot().byLabel[label];
          const w2 = cluster.links[2].w1!.counters.snapshot().byLabel[label];
          const { c } = bilinearSizes(op);
          const tensors = [...(reuse.a ? [] : [a]), ...(reuse.b ? [] : [b]), c];
          assert.equal(w0.sent.bytes, header + sum(tensors.map((n) => tensorFrame(label, n, protocol))), `${label}: w0 → w1 (header, E, F, C0')`);
          assert.equal(w0.received.bytes, 0, `${label}: nothing w1 → w0`);
          assert.equal(w2.sent.bytes, tensorFrame(label, c, protocol), `${label}: w2 → w1 (Z')`);
          assert.equal(w0.sent.bytes, header + tensors.length * tensorFrame(label, 0, protocol) + 3 * lt.w0ToW1, `${label}: formula, w0 → w1`);
          assert.equal(w2.sent.bytes, tensorFrame(label, 0, protocol) + 3 * lt.w2ToW1, `${label}: formula, w2 → w1`);
        }
      }
    }
    if (protocol === 'lean') {
      // every operand version leaves the enclave(s) exactly once: per layer W and X (forward) and dY (grad-weight)
      const once = sum(logs[0].ops.map(({ op }) => (op.pass === 'forward' ? bilinearSizes(op).a + bilinearSizes(op).b : op.pass === 'grad-weight' ? bilinearSizes(op).a : 0)));
      assert.equal(leanEgress, once, 'elements out of the enclave(s) in one step');
    }
  } finally {
    await cluster.close();
  }
}

describe('measured traffic per op equals the protocol formula', () => {
  for (const protocol of ['lean', 'goten'] as const) {
    for (const topology of ['single', 'replicated'] as const) it(`${protocol}, ${topology} topology`, () => measure(protocol, topology));
  }
});
