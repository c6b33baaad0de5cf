/**
 * Replicated topology: the two enclave replicas compare a digest of every
 * step's quantized operands and exponents, and stop loudly when they differ.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { ReplicaDivergenceError } from '../../src/protocol/secure-executor.js';
import { startLocalCluster } from '../../src/roles/local-cluster.js';
import { oddBatch, oddModel } from './helpers.js';

describe('replica divergence detection', () => {
  it('identical replicas pass the per-step digest check, step after step, with identical outputs', async () => {
    const cluster = await startLocalCluster({ backend: createJsBackend(), topology: 'replicated', noiseKey: noiseKeyFromSeed(2) });
    try {
      const models = cluster.executors.map((e) => oddModel(3, e));
      for (let step = 0; step < 2; step++) {
        const { x } = oddBatch(2, 1 + step);
        const outs = await Promise.all(models.map((m) => m.forward(x, true)));
        // endStep resolves only when the other replica's digest of this step equals this one's
        const ended = await Promise.allSettled(cluster.executors.map((e) => e.endStep()));
        for (const r of ended) assert.equal(r.status, 'fulfilled', `step ${step}: ${String((r as PromiseRejectedResult).reason)}`);
        assert.deepEqual(outs[1]!.data, outs[0]!.data, `step ${step}: both replicas reconstruct the same logits`);
        assert.ok(outs[0]!.data.some((v) => v !== 0), 'the logits are not all zero');
      }
      for (const e of cluster.executors) assert.ok(e.stats().ops > 0, 'the replicas ran secure ops');
    } finally {
      await cluster.close();
    }
  });

  it('one differing input element stops both replicas with ReplicaDivergenceError', async () => {
    const cluster = await startLocalCluster({ backend: createJsBackend(), topology: 'replicated', noiseKey: noiseKeyFromSeed(2) });
    try {
      const { x } = oddBatch(2, 1);
      const x1 = x.clone();
      x1.data[5] += 0.75; // e.g. a float divergence between two machines
      // the divergence surfaces at the step's digest check, or earlier if a garbage
      // result lands in the guard band (replicas then compare digests at once)
      const results = await Promise.allSettled(
        [x, x1].map(async (input, i) => {
          await oddModel(3, cluster.executors[i]).forward(input, true);
          await cluster.executors[i].endStep();
        }),
      );
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.ok((r as PromiseRejectedResult).reason instanceof ReplicaDivergenceError);
        assert.match(String((r as PromiseRejectedResult).reason.message), /diverged at step 0/);
      }
    } finally {
      await cluster.close();
    }
  });
});

describe('replica digest frames are untrusted input', () => {
  it('a Digest frame with a null body is reported as divergence, not a TypeError', async () => {
    const { inprocTransport } = await import('../../src/net/inproc.js');
    const { MsgType } = await import('../../src/net/message-types.js');
    const { SecureExecutor } = await import('../../src/protocol/secure-executor.js');
    const { FEEDS_REPLICA0 } = await import('../../src/protocol/feeds.js');
    const { deriveStreamKeys, generateMasterSecret } = await import('../../src/protocol/key-schedule.js');
    const t = inprocTransport('wire');
    const l = await t.listen({ host: 'e0', port: 0 });
    const mine = await t.connect({ host: l.host, port: l.port });
    const other = await l.accept();
    await l.close();
    const unused = mine; // the step's digest exchange touches no worker connection
    const exec = new SecureExecutor({
      workers: [unused, unused, unused],
      feeds: FEEDS_REPLICA0,
      keys: deriveStreamKeys(generateMasterSecret()),
      noiseKey: noiseKeyFromSeed(1),
      replica: mine,
      timeoutMs: 5000,
    });
    try {
      await other.send({ type: MsgType.Digest, opId: 0, dtype: 'json', value: null });
      await assert.rejects(exec.endStep(), ReplicaDivergenceError);
    } finally {
      mine.destroy();
      other.destroy();
    }
  });
});

describe('attempt counters', () => {
  it('never go backwards (a lower counter would reuse masks)', async () => {
    const { AttemptCounter } = await import('../../src/protocol/op-streams.js');
    const c = new AttemptCounter();
    c.setState({ '0/forward': 5 });
    assert.equal(c.take(0, 'forward'), 5);
    assert.throws(() => c.setState({ '0/forward': 2 }), /cannot go back/);
    assert.throws(() => c.setState({ '0/forward': -1 }), /non-negative/);
    assert.equal(c.take(0, 'forward'), 6, 'a refused restore changes nothing');
  });
});
