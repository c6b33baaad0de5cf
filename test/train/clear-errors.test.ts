/**
 * Mistakes an operator can make get a clear error naming the cause, early, instead of a raw V8 or OS
 * message or a late failure (issue 11, the smaller defects).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeOwnerKey, loadOwnerPublicKey } from '../../src/wire/owner-box.js';
import { checkSavePath } from '../../src/cli/checkpoint-io.js';
import { portOption } from '../../src/flags/numbers.js';
import { loadDataset } from '../../src/data/spec.js';
import { generateIdentity } from '../../src/net/identity.js';
import { parseClusterConfig } from '../../src/net/cluster-config.js';
import { buildModel } from '../../src/nn/models/index.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { getBackend } from '../../src/backend/index.js';
import { SgxGramineProvider } from '../../src/tee/providers/sgx-gramine.js';
import { gotenTrain, writeTinyConfig } from './cli.js';
import { goten } from '../cli.js';


const notRaw = (e: unknown) => !/Invalid typed array length|Array buffer allocation failed|ENOENT/.test((e as Error).message);

describe('clear errors for operator mistakes', () => {
  it('synthetic data too large for memory: names the limit flags', () => {
    assert.throws(() => loadDataset('synthetic:1x8x8:3', { limitTrain: 100_000_000 }), (e: Error) => notRaw(e) && /--limit-train/.test(e.message));
  });

  it('a conv layer with 1e9 outputs: names the layer', () => {
    const spec = JSON.stringify({ name: 'big', layers: [{ type: 'conv', name: 'huge', out: 1e9, kernel: 3, pad: 1 }, { type: 'flatten', name: 'f' }, { type: 'linear', name: 'fc', out: 'classes' }] });
    assert.throws(
      () => buildModel(spec, { inputShape: [1, 8, 8], numClasses: 3, seed: 1, executor: new PlainExecutor(getBackend('js')) }),
      (e: Error) => notRaw(e) && /layer 'huge'/.test(e.message),
    );
  });

  it('serve --port 70000 is refused as a port number', () => {
    assert.throws(() => portOption('--port')('70000'), /--port must be a TCP port, 0 to 65535/);
    assert.equal(portOption('--port')('0'), 0);
    assert.equal(portOption('--port')('65535'), 65535);
    const dir = mkdtempSync(join(tmpdir(), 'goten-port-'));
    try {
      const k = writeOwnerKey(join(dir, 'keys'));
      const r = goten(['serve', '--port', '70000', '--mode', 'plain', '--owner-key', k.pubFile, '--sim-key', join(dir, 'sim')], { timeoutMs: 60_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /--port must be a TCP port, 0 to 65535/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--tee sgx-gramine outside SGX says the TEE is not available', async () => {
    const p = new SgxGramineProvider({ root: '/nonexistent/attestation' });
    await assert.rejects(p.sealer(), (e: Error) => notRaw(e) && /sgx-gramine TEE is not available/.test(e.message));
    await assert.rejects(p.measurement(), /sgx-gramine TEE is not available/);
  });

  it('a cluster config with two parties on one address is refused at load', () => {
    const party = (n: string, port: number) => ({ host: '127.0.0.1', port, publicKey: generateIdentity(n).publicKeyText });
    const cfg = { version: 1, parties: { e0: party('e0', 7100), w0: party('w0', 7101), w1: party('w1', 7101), w2: party('w2', 7103) } };
    assert.throws(() => parseClusterConfig(cfg), /parties\.w1\.port: 127\.0\.0\.1:7101 is also the address of parties\.w0/);
  });

  it('--save into a missing directory fails before training, naming the directory', () => {
    assert.throws(() => checkSavePath('/nonexistent-goten-dir/ck.safetensors'), /the directory \/nonexistent-goten-dir does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'goten-save-'));
    try {
      checkSavePath(join(dir, 'ck.safetensors')); // an existing directory is fine
      const model = writeTinyConfig(dir, [{ type: 'flatten', name: 'f' }, { type: 'linear', name: 'fc', out: 'classes' }]);
      const r = gotenTrain(['--model', model, '--data', 'synthetic:1x4x4:2', '--limit-train', '16', '--limit-test', '8', '--epochs', '1', '--backend', 'js', '--save', join(dir, 'missing', 'ck.safetensors')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /does not exist/);
      assert.doesNotMatch(r.stderr, /^training /m, 'refused before training starts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve --owner-key with the private key file is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goten-owner-'));
    try {
      const k = writeOwnerKey(join(dir, 'keys'));
      assert.throws(() => loadOwnerPublicKey(k.keyFile), /holds a PRIVATE key/);
      assert.equal(loadOwnerPublicKey(k.pubFile).asymmetricKeyType, 'x25519');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('activations too large for memory: the CLI says what to reduce instead of a raw V8 message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goten-big-'));
    try {
      const model = join(dir, 'wide.json');
      writeFileSync(model, JSON.stringify({ name: 'wide', layers: [{ type: 'conv', name: 'c', out: 40000, kernel: 3, pad: 1 }, { type: 'flatten', name: 'f' }, { type: 'linear', name: 'fc', out: 'classes' }] }));
      const r = gotenTrain(['--model', model, '--data', 'synthetic:1x64x64:3', '--limit-train', '64', '--limit-test', '8', '--epochs', '1', '--backend', 'js', '--batch', '64']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /goten: out of memory: .*--batch/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
