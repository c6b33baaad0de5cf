/**
 * Recovery in-process (docs/protocol.md, Recovery): a worker connection that breaks during an op — at a
 * forward, an input gradient and a weight gradient, early and late in the run — makes the executor open a
 * new session (here: a new in-process cluster with a new master secret, so new mask keys) and run the op
 * again; every op's result and every loss stay bit-identical to the quantized reference, in both protocols
 * and in offline mode. A VerificationError-free, overflow-free path: only the loss is injected.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsBackend } from '../../src/backend/js/index.js';
import { ConnectionClosedError } from '../../src/net/transport.js';
import { deriveStreamKeys, generateMasterSecret } from '../../src/protocol/key-schedule.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import type { Recovery, SessionParts } from '../../src/protocol/recovery.js';
import type { ProtocolName } from '../../src/protocol/variant.js';
import { type LocalCluster, startLocalCluster } from '../../src/roles/local-cluster.js';
import { RecordingExecutor, assertSameRecords, oddModel, trainSteps } from './helpers.js';

const backend = createJsBackend();
const SEED = 11;
const STEPS = 3;
const noiseKey = noiseKeyFromSeed(SEED);

/** Trains with the connection to worker `victim` broken when it computes its op number `at` (1-based, counted over all sessions). */
async function lossAt(protocol: ProtocolName, workers: 2 | 3, victim: number, at: number[]): Promise<{ rec: RecordingExecutor; losses: number[]; sessions: number }> {
  const clusters: LocalCluster[] = [];
  let n = 0;
  const open = async (): Promise<SessionParts> => {
    const master = generateMasterSecret();
    const keys = deriveStreamKeys(new Uint8Array(master));
    const c: LocalCluster = await startLocalCluster({
      backend, topology: 'single', noiseKey, protocol, workers, master,
      // the break: the enclave's connection to the victim closes as if its process had died
      workerFaults: [0, 1, 2].map((w) => (w === victim ? () => {
        if (at.includes(++n)) c.connections[0][victim].destroy(new ConnectionClosedError(`w${victim} closed the connection`));
      } : undefined)),
      recovery,
    });
    clusters.push(c);
    // offline: the new session's mask source, for its keys (the cluster's own executor is not used)
    return { workers: c.connections[0] as unknown as SessionParts['workers'], keys, ...(workers === 2 ? { maskSource: c.executors[0].maskSource } : {}) };
  };
  // every new session is a fresh cluster (new workers, new master secret)
  const recovery: Recovery = { reopen: () => open() };
  await open();
  const exec = clusters[0].executors[0];
  try {
    const rec = new RecordingExecutor(exec);
    const losses = await trainSteps(oddModel(SEED, rec), STEPS, 3);
    return { rec, losses, sessions: clusters.length };
  } finally {
    // an abandoned in-process cluster's lean links stay open (a worker process closes them when its
    // session ends, roles/worker.ts): close them, or its worker 1 would wait on them for ever
    for (const c of clusters) for (const l of c.links) for (const x of [l.w0, l.w1, l.w2]) x?.destroy();
    for (const c of clusters) await c.close().catch(() => {});
  }
}

describe('recovery from a lost worker is bit-identical to an uninterrupted run', () => {
  const reference = async () => {
    const rec = new RecordingExecutor(new QuantizedExecutor({ backend, noiseKey }));
    const losses = await trainSteps(oddModel(SEED, rec), STEPS, 3);
    return { rec, losses };
  };
  // 11 ops per step (forward ×4, grad-input ×3, grad-weight ×4): op 2 is a forward, op 7 and 9 are in the
  // first backward, 15 and 30 in later steps
  // lean: the enclave hears only from w1 (in-process, a dead w0 or w2 would only show as w1's op timeout,
  // since nothing here closes their links as a worker process does; test/roles/cli-recovery.test.ts has them)
  const cases: [ProtocolName, 2 | 3, number][] = [['lean', 3, 1], ['goten', 3, 0], ['goten', 3, 2], ['lean', 2, 1], ['goten', 2, 1]];
  for (const [protocol, workers, victim] of cases) {
    it(`${protocol}, ${workers === 3 ? 'online' : 'offline'}: w${victim} lost at several ops`, async () => {
      const ref = await reference();
      const got = await lossAt(protocol, workers, victim, [2, 7, 9, 15, 30]);
      assert.ok(got.sessions >= 4, `sessions were re-opened (${got.sessions})`);
      assertSameRecords(ref.rec, got.rec, `${protocol} with recoveries`);
      assert.deepEqual(got.losses, ref.losses);
    });
  }
});

describe('a recovery that refuses', () => {
  it('fails the op with its message before tearing anything down: no new session, the other links stay open', async () => {
    let victimOps = 0;
    let reopened = 0;
    const c: LocalCluster = await startLocalCluster({
      backend, topology: 'single', noiseKey, protocol: 'lean', workers: 3,
      workerFaults: [undefined, () => {
        if (++victimOps === 2) c.connections[0][1].destroy(new ConnectionClosedError('w1 closed the connection'));
      }, undefined],
      recovery: {
        refuse: (cause, replacing) => new Error(`${cause.message} (refused${replacing ? ', replacing' : ''})`),
        reopen: async () => {
          reopened++;
          throw new Error('reopen must not be called after a refusal');
        },
      },
    });
    try {
      await assert.rejects(trainSteps(oddModel(SEED, c.executors[0]), 1, 3), /w1 closed the connection \(refused\)$/);
      assert.equal(reopened, 0);
      assert.equal(c.connections[0][0].isClosed, false, 'w0 link left open');
      assert.equal(c.connections[0][2].isClosed, false, 'w2 link left open');
      assert.equal(c.connections[0][1].isClosed, true);
    } finally {
      for (const l of c.links) for (const x of [l.w0, l.w1, l.w2]) x?.destroy();
      await c.close().catch(() => {});
    }
  });
});
