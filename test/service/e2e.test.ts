/**
 * The stakeholder flows end to end over real sockets on 127.0.0.1, with the simulated TEE:
 * a data contributor uploads (encrypted, sealed at once), the model owner starts SECURE training (three
 * worker processes) and downloads the model sealed to the owner key, and a querier gets encrypted,
 * batched predictions from the secure forward pass — each client verifying the attestation first.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEnclave, EnclaveClientError } from '../../src/client/index.js';
import { loadOwnerPrivateKey, loadOwnerPublicKey, writeOwnerKey } from '../../src/wire/owner-box.js';
import { runDownload } from '../../src/cli/commands/download.js';
import { runPredict } from '../../src/cli/commands/predict.js';
import { runQuery } from '../../src/cli/commands/query.js';
import { runRemoteTrain } from '../../src/cli/commands/train-remote.js';
import { runUpload } from '../../src/cli/commands/upload.js';
import { loadDataset } from '../../src/data/spec.js';
import { createModeExecutor } from '../../src/modes/executors.js';
import { type RunningService, startService } from '../../src/service/server.js';
import { MemoryBacking, readSealedHeader } from '../../src/tee/index.js';
import { DATA, devPolicy, quietProvider, tempDir, TINY, writePolicy } from './helpers.js';

describe('upload → secure training → download → prediction over goten serve', () => {
  const dir = tempDir();
  const provider = quietProvider(dir);
  const owner = writeOwnerKey(join(dir, 'keys'));
  const other = writeOwnerKey(join(dir, 'keys'), 'other');
  const policy = writePolicy(dir, provider);
  const modelFile = join(dir, 'tiny.json');
  writeFileSync(modelFile, JSON.stringify(TINY));
  const backing = new MemoryBacking();
  let svc: RunningService;

  before(async () => {
    svc = await startService({
      provider,
      mode: 'secure',
      ownerKey: loadOwnerPublicKey(owner.pubFile),
      makeExecutor: (mode, seed) => createModeExecutor({ mode, backend: 'js', seed, topology: 'single', log: () => {} }),
      backing,
      maxBatch: 8,
      log: () => {},
    });
  });
  after(async () => {
    await svc?.close();
  });

  it('runs the whole flow and the answers come from the attested, downloaded model', async () => {
    const up = await runUpload({ data: DATA, to: svc.url, policy, limitTrain: 96, limitTest: 24, seed: 3, expectOwner: owner.pubFile });
    assert.deepEqual([up.train, up.test], [96, 24]);
    // what the host stores is sealed: GTS1 blobs of the "uploads" stream, no plaintext window of the data
    const plain = Buffer.from(loadDataset(DATA, { limitTrain: 96, limitTest: 24, seed: 3 }).train.images.buffer).subarray(256, 320);
    assert.ok(backing.blobs.size >= 1);
    for (const blob of backing.blobs.values()) {
      assert.equal(readSealedHeader(blob).purpose, 'uploads');
      assert.equal(Buffer.from(blob).indexOf(plain), -1);
    }

    const st = await runRemoteTrain({ to: svc.url, policy, ownerKey: owner.keyFile, model: modelFile, epochs: 1, batch: 16, lr: 0.05, seed: 3, optimizer: 'sgd', schedule: 'cosine', wait: true });
    assert.equal(st?.state, 'trained');
    assert.equal(st?.epochs.length, 1);
    assert.equal(st?.epochs[0].mode, 'secure');

    const out = join(dir, 'downloaded.safetensors');
    const dl = await runDownload({ to: svc.url, policy, ownerKey: owner.keyFile, out });
    assert.equal(dl.sha256, svc.core.model?.digest, 'the served model is the downloaded one');
    assert.ok([...backing.blobs.values()].some((b) => readSealedHeader(b).purpose === 'model'), 'the trained model is sealed in storage');

    const q = await runQuery({ to: svc.url, policy, data: DATA, limit: 24, perQuery: 5, concurrency: 3, form: 'binary', expectModel: dl.sha256, seed: 3 });
    assert.equal(q.count, 24);
    assert.ok(q.accuracy > 0.5, `secure prediction accuracy ${q.accuracy}`);
    const local = await runPredict({ modelFile: out, data: DATA, limit: 24, mode: 'plain', topology: 'single', batch: 24, classes: true, json: true, backend: 'js' });
    const agree = q.classes.filter((c, i) => c === local.classes![i]).length / 24;
    assert.ok(agree >= 0.8, `secure service and local plain inference agree on ${agree}`);
    const status = (await (await fetch(`${svc.url}/status`)).json()) as { predictions: { passes: number; inputs: number } };
    assert.equal(status.predictions.inputs, 24);
    assert.ok(status.predictions.passes <= 5, `${status.predictions.passes} forward passes for 5 queries (batched)`);
  });

  it('only the owner may train or download; a client pinned to another owner refuses the enclave', async () => {
    const pol = devPolicy(provider);
    const c = await connectEnclave(svc.url, { policy: pol });
    await assert.rejects(c.call('/download', Buffer.from('{}')), (e: unknown) => e instanceof EnclaveClientError && e.code === 'OWNER_ONLY' && e.status === 403);
    await assert.rejects(c.callJson('/train', { model: 'mnist-cnn', epochs: 1 }), (e: unknown) => (e as EnclaveClientError).code === 'OWNER_ONLY');
    await assert.rejects(connectEnclave(svc.url, { policy: pol, ownerKey: loadOwnerPrivateKey(other.keyFile) }), (e: unknown) => (e as EnclaveClientError).code === 'OWNER_MISMATCH');
    await assert.rejects(connectEnclave(svc.url, { policy: pol, expectOwner: loadOwnerPublicKey(other.pubFile) }), (e: unknown) => (e as EnclaveClientError).code === 'OWNER_MISMATCH');
    const r = await fetch(`${svc.url}/session`, { method: 'POST', body: JSON.stringify({ v: 1, ephemeral: Buffer.alloc(32, 9).toString('base64url'), owner: Buffer.alloc(32, 7).toString('base64url') }) });
    assert.equal(r.status, 403);
  });
});
