/**
 * The enclave's side of a worker's Result frame (src/protocol/mask-source.ts receiveResult,
 * receivePackedResult): a result of the wrong dtype or length is refused with a ProtocolError naming the
 * worker and that connection is closed; a well-formed one is handed over as sent; a worker that is gone,
 * sends an error frame or stays silent past the op timeout is reported as lost (WorkerLostError, what
 * recovery acts on), one that sends another message instead is a plain protocol error. Values outside the
 * centred range are refused here for Int32 results and, for packed ones, by the reconstruction that
 * unpacks them (test/protocol/enclave-kernels.test.ts). End to end, a worker 1 whose result holds such a
 * value stops the training step with that error (lean online and offline, goten online) and the step is
 * not applied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InprocNetwork, inprocTransport } from '../../src/net/inproc.js';
import { MsgType } from '../../src/net/message-types.js';
import type { Connection, OutgoingMessage } from '../../src/net/transport.js';
import { createJsBackend } from '../../src/backend/js/index.js';
import { packCentred24 } from '../../src/field/pack.js';
import { receivePackedResult, receiveResult } from '../../src/protocol/mask-source.js';
import { ProtocolError } from '../../src/protocol/messages.js';
import { WorkerLostError } from '../../src/protocol/worker-lost.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import type { ProtocolName } from '../../src/protocol/variant.js';
import { startLocalCluster } from '../../src/roles/local-cluster.js';
import { oddModel, trainSteps } from './helpers.js';

async function pair(): Promise<{ worker: Connection; enclave: Connection }> {
  const t = inprocTransport('wire', new InprocNetwork());
  const l = await t.listen();
  const worker = await t.connect({ host: l.host, port: l.port });
  const enclave = await l.accept();
  await l.close();
  return { worker, enclave };
}

/** The worker sends `msg` as its result of op 7; the enclave expects `n` elements. */
async function refused(msg: OutgoingMessage, n: number, packed: boolean, pattern: RegExp): Promise<void> {
  const { worker, enclave } = await pair();
  await worker.send(msg);
  const got = packed ? receivePackedResult(enclave, 'worker 1', 7, n, 5000) : receiveResult(enclave, 'worker 1', 7, n, 5000);
  await assert.rejects(got, (err: Error) => err instanceof ProtocolError && pattern.test(err.message));
  assert.equal(enclave.isClosed, true, 'the connection of a worker that sent a malformed result is closed');
  await worker.close().catch(() => {});
}

describe('the enclave checks every worker result it receives', () => {
  it('accepts a well-formed packed result as sent', async () => {
    const { worker, enclave } = await pair();
    const values = Int32Array.from([0, 1, -1, 1048571, -1048571]);
    await worker.send({ type: MsgType.Result, opId: 7, dtype: 'int24', data: packCentred24(values, new Uint8Array(15)) });
    const part = await receivePackedResult(enclave, 'worker 1', 7, 5, 5000);
    assert.deepEqual([...part.data], [...packCentred24(values, new Uint8Array(15))]);
    part.release();
    assert.equal(enclave.isClosed, false);
    await worker.close();
    await enclave.close();
  });

  it('accepts a well-formed Int32 result', async () => {
    const { worker, enclave } = await pair();
    await worker.send({ type: MsgType.Result, opId: 7, dtype: 'int32', data: Int32Array.from([3, -4, 5]) });
    const part = await receiveResult(enclave, 'worker 0', 7, 3, 5000);
    assert.deepEqual([...part.data], [3, -4, 5]);
    part.release();
    await worker.close();
    await enclave.close();
  });

  it('refuses a packed result of the wrong length or dtype', async () => {
    await refused({ type: MsgType.Result, opId: 7, dtype: 'int24', data: new Uint8Array(12) }, 5, true, /result of worker 1: expected 5 packed elements, got 4/);
    await refused({ type: MsgType.Result, opId: 7, dtype: 'int32', data: new Int32Array(5) }, 5, true, /result of worker 1: expected an int24/);
    // the right number of bytes, but not declared packed field elements
    await refused({ type: MsgType.Result, opId: 7, dtype: 'uint8', data: new Uint8Array(15) }, 5, true, /result of worker 1: expected an int24/);
    await refused({ type: MsgType.Result, opId: 7, dtype: 'json', value: { c: [1, 2, 3] } }, 3, true, /result of worker 1: expected an int24/);
  });

  it('refuses an Int32 result of the wrong length or dtype, or with values outside the centred range', async () => {
    await refused({ type: MsgType.Result, opId: 7, dtype: 'int32', data: new Int32Array(4) }, 5, false, /result of worker 1: expected 5 elements, got 4/);
    await refused({ type: MsgType.Result, opId: 7, dtype: 'float32', data: new Float32Array(5) }, 5, false, /result of worker 1: expected an int32/);
    await refused({ type: MsgType.Result, opId: 7, dtype: 'int32', data: Int32Array.from([0, 1 << 21, 0]) }, 3, false, /outside the centred range/);
  });

  it('reports a worker that is gone, sends an error frame or stays silent as lost, naming it', async () => {
    const lost = (err: Error, timedOut: boolean) =>
      err instanceof WorkerLostError && err.timedOut === timedOut && /^worker 1 \(.*\) failed during op 7: /.test(err.message);
    {
      const { worker, enclave } = await pair();
      const got = receivePackedResult(enclave, 'worker 1', 7, 5, 5000);
      worker.destroy(new Error('crashed'));
      await assert.rejects(got, (err: Error) => lost(err, false));
    }
    {
      const { worker, enclave } = await pair();
      await worker.send({ type: MsgType.Error, dtype: 'json', value: { code: 'OUT_OF_MEMORY', message: 'cannot allocate' } });
      await assert.rejects(receivePackedResult(enclave, 'worker 1', 7, 5, 5000), (err: Error) => lost(err, false) && /cannot allocate/.test(err.message));
      worker.destroy();
    }
    {
      const { worker, enclave } = await pair();
      await assert.rejects(receivePackedResult(enclave, 'worker 1', 7, 5, 50), (err: Error) => lost(err, true));
      worker.destroy();
    }
  });

  it('treats another message in place of the result as a protocol error, not a lost worker', async () => {
    const { worker, enclave } = await pair();
    await worker.send({ type: MsgType.Result, opId: 8, dtype: 'int24', data: new Uint8Array(15) });
    await assert.rejects(
      receivePackedResult(enclave, 'worker 1', 7, 5, 5000),
      (err: Error) => err instanceof ProtocolError && !(err instanceof WorkerLostError) && /^worker 1 \(.*\) failed during op 7: /.test(err.message),
    );
    assert.equal(enclave.isClosed, true);
    worker.destroy();
  });
});

describe('a worker 1 result outside the centred range stops the step', () => {
  const setups: { protocol: ProtocolName; workers: 2 | 3 }[] = [
    { protocol: 'lean', workers: 3 },
    { protocol: 'lean', workers: 2 },
    { protocol: 'goten', workers: 3 },
  ];
  for (const s of setups) {
    it(`${s.protocol} ${s.workers === 3 ? 'online' : 'offline'}`, async () => {
      // worker 1's hook sees its own part of its second op; 7·2^20 stays outside [−HALF, HALF] after the
      // lean worker adds the other (centred) parts, and a packed element can carry it (|v| < 2^23)
      let n = 0;
      const faults = [undefined, (out: Int32Array) => void (++n === 2 && (out[0] = 7 << 20))];
      const cluster = await startLocalCluster({ backend: createJsBackend(), noiseKey: noiseKeyFromSeed(11), topology: 'single', workerFaults: faults, ...s });
      try {
        const model = oddModel(11, cluster.executors[0]);
        const before = model.parameters().map((p) => p.value.slice());
        await assert.rejects(trainSteps(model, 1, 2), (err: Error) => err instanceof ProtocolError && /result of worker 1: values outside the centred range of Z_P/.test(err.message));
        assert.equal(n >= 2, true, 'the bad value was written');
        assert.ok(
          model.parameters().every((p, i) => p.value.every((v, j) => Object.is(v, before[i][j]))),
          'the step is not applied',
        );
      } finally {
        await cluster.close();
      }
    });
  }
});
