/**
 * Measured bytes per op match the protocol's formula (protocol/traffic.ts):
 * every frame on every enclave–worker connection, per op label.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { bilinearSizes, type BilinearOp } from '../../src/backend/bilinear.js';
import { frameSize } from '../../src/net/frame.js';
import { MsgType } from '../../src/net/message-types.js';
import { inprocTransport } from '../../src/net/inproc.js';
import type { ExecutorStats, LinearExecutor, OpTag, OperandReuse } from '../../src/nn/executor.js';
import { opHeader, opLabel } from '../../src/protocol/messages.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { opTraffic } from '../../src/protocol/traffic.js';
import { startLocalCluster, type Topology } from '../../src/roles/local-cluster.js';
import { oddBatch, oddModel } from './helpers.js';
import { softmaxCrossEntropy } from '../../src/nn/loss.js';

/** Remembers every op attempt's header as the enclave built it. */
class OpLog implements LinearExecutor {
  readonly ops: { op: BilinearOp; tag: OpTag }[] = [];
  constructor(readonly inner: LinearExecutor) {}
  get mode() {
    return this.inner.mode;
  }
  async run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, reuse?: OperandReuse) {
    this.ops.push({ op, tag });
    await this.inner.run(op, tag, a, b, c, reuse);
  }
  stats(): ExecutorStats {
    return this.inner.stats();
  }
}

function int32Frame(label: string, n: number): number {
  return frameSize({ type: MsgType.Shares, opId: 1, label, dtype: 'int32', data: new Int32Array(n) });
}

async function measure(topology: Topology): Promise<void> {
  const cluster = await startLocalCluster({
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
    const feeds = topology === 'single' ? [[0, 1, 2]] : [[0, 2], [1]];
    for (let e = 0; e < cluster.executors.length; e++) {
      for (const { op, tag } of logs[e].ops) {
        const at = { op, layer: tag.index, attempt: 0 };
        const label = opLabel(at);
        const header = frameSize({ type: MsgType.OpRequest, opId: 1, label, dtype: 'json', value: opHeader(at) });
        const t = opTraffic(op);
        const { a, b } = bilinearSizes(op);
        for (let w = 0; w < 3; w++) {
          const s = cluster.connections[e][w].counters.snapshot().byLabel[label];
          const fed = feeds[e].includes(w);
          const sizes = w === 0 ? [a, b] : w === 1 ? [a, b, a, b] : [];
          const expectSent = fed ? header + sizes.reduce((acc, n) => acc + int32Frame(label, n), 0) : 0;
          assert.equal(s?.sent.bytes ?? 0, expectSent, `enclave ${e} → w${w}, ${label}: bytes sent`);
          if (fed) assert.equal(sizes.reduce((p, n) => p + n, 0), t[w].inElements, 'formula: elements in');
          assert.equal(s.received.bytes, int32Frame(label, t[w].outElements), `w${w} → enclave ${e}, ${label}: bytes received`);
          assert.equal(s.received.frames, 1);
          if (fed) assert.equal(s.rounds, 1, 'one round per op and worker');
        }
      }
    }
  } finally {
    await cluster.close();
  }
}

describe('measured traffic per op equals the protocol formula', () => {
  for (const topology of ['single', 'replicated'] as const) it(`${topology} topology`, () => measure(topology));
});
