/**
 * Refusals and robustness of the client library and the service (plain forward pass, in-process service on
 * 127.0.0.1): a client refuses an enclave whose measurement, signature, quoting key or key binding does not
 * match — before sending anything — and the service answers every malformed, tampered, replayed or
 * oversized request with a clear 4xx while it keeps serving.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateX25519, spkiDer } from '../../src/wire/channel.js';
import { datasetHeaderOf, datasetPayloadParts } from '../../src/wire/codec.js';
import { connectEnclave, type EnclaveClient, EnclaveClientError, loadOwnerPublicKey, uploadDataset, writeOwnerKey } from '../../src/client/index.js';
import { loadDataset } from '../../src/data/spec.js';
import { createModeExecutor } from '../../src/modes/executors.js';
import { type RunningService, startService } from '../../src/service/server.js';
import { AttestationError, decodeReport, encodeReport, MemoryBacking } from '../../src/tee/index.js';
import { DATA, devPolicy, quietProvider, tempDir, tinyCheckpoint } from './helpers.js';

type Mode = 'pass' | 'signature' | 'key' | 'config' | 'stale' | 'tamper-predict';

/** A man in the middle: forwards to the service, optionally altering what passes. */
async function proxy(target: string) {
  const st = { mode: 'pass' as Mode, paths: [] as string[], stale: null as Buffer | null, lastPredict: null as Buffer | null };
  const server: Server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    let body = Buffer.concat(parts);
    st.paths.push(`${req.method} ${new URL(req.url!, 'http://x').pathname}`);
    if (req.url === '/predict') {
      st.lastPredict = body;
      if (st.mode === 'tamper-predict') (body = Buffer.from(body))[body.length - 20] ^= 1;
    }
    const r = await fetch(target + req.url, { method: req.method, headers: { 'content-type': String(req.headers['content-type'] ?? '') }, body: req.method === 'GET' ? undefined : body });
    let out: Buffer = Buffer.from(await r.arrayBuffer());
    if (req.url!.startsWith('/attestation') && st.mode !== 'pass') {
      const a = JSON.parse(out.toString()) as Record<string, string>;
      if (st.mode === 'signature') {
        const rep = decodeReport(Buffer.from(a.report, 'base64'));
        rep.evidence[rep.evidence.length - 1] ^= 1;
        a.report = Buffer.from(encodeReport(rep)).toString('base64');
      } else if (st.mode === 'key') a.channelKey = spkiDer(generateX25519().publicKey).toString('base64');
      else if (st.mode === 'config') a.config = a.config.replace('"maxBatch":8', '"maxBatch":9');
      else if (st.mode === 'stale') {
        const old = st.stale;
        st.stale = out;
        if (old) out = old;
      }
      if (st.mode !== 'stale') out = Buffer.from(JSON.stringify(a));
    }
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { st, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

const refusal = (code: string) => (e: unknown) => {
  assert.ok(e instanceof AttestationError || e instanceof EnclaveClientError, String(e));
  assert.equal((e as { code: string }).code, code, (e as Error).message);
  return true;
};

describe('refusals and robustness', () => {
  const dir = tempDir();
  const provider = quietProvider(dir);
  const policy = devPolicy(provider);
  const data = loadDataset(DATA, { limitTrain: 1, limitTest: 8, seed: 3 });
  const inputs = Float32Array.from(data.test.images);
  let svc: RunningService;
  let mitm: Awaited<ReturnType<typeof proxy>>;
  let client: EnclaveClient;

  before(async () => {
    const ck = readFileSync(await tinyCheckpoint(dir));
    svc = await startService({
      provider, mode: 'plain', modelBytes: ck, maxBatch: 8, maxPredictBody: 64 * 1024, log: () => {},
      makeExecutor: (mode, seed) => createModeExecutor({ mode, backend: 'js', seed }),
    });
    mitm = await proxy(svc.url);
    client = await connectEnclave(svc.url, { policy });
  });
  after(async () => {
    await mitm?.close();
    await svc?.close();
  });

  it('refuses a wrong measurement, a bad signature, an untrusted quoting key, a swapped key or config, a stale report', async () => {
    const cases: [Mode, Parameters<typeof devPolicy>[1], string][] = [
      ['pass', { measurements: ['11'.repeat(32)] }, 'MEASUREMENT_MISMATCH'],
      ['pass', { simulatedQuotingKeys: [quietProvider(dir, undefined, 'otherkey').quotingPublicKeyHex()] }, 'UNTRUSTED_SIMULATED_KEY'],
      ['pass', { allowSimulated: false }, 'SIMULATED_EVIDENCE_REJECTED'],
      ['pass', { keyBinding: 'none' }, 'KEY_BINDING_REQUIRED'],
      ['signature', {}, 'SIGNATURE'],
      ['key', {}, 'KEY_BINDING_MISMATCH'],
      ['config', {}, 'KEY_BINDING_MISMATCH'],
      ['stale', {}, 'KEY_BINDING_MISMATCH'],
    ];
    for (const [mode, over, code] of cases) {
      mitm.st.mode = mode;
      if (mode === 'stale') await connectEnclave(mitm.url, { policy }); // records a report for another nonce
      mitm.st.paths = [];
      await assert.rejects(connectEnclave(mitm.url, { policy: devPolicy(provider, over) }), refusal(code), `${mode} ${JSON.stringify(over)}`);
      assert.deepEqual(mitm.st.paths.filter((p) => !p.startsWith('GET /attestation')), [], `${code}: nothing sent after the attestation`);
    }
  });

  it('says loudly that the TEE is simulated', async () => {
    const r = await fetch(`${svc.url}/attestation`);
    assert.equal(r.headers.get('x-goten-tee'), 'SIMULATED - NO SECURITY');
    const a = (await r.json()) as { simulated: boolean; warning: string };
    assert.equal(a.simulated, true);
    assert.match(a.warning, /SIMULATED TEE — NO SECURITY/);
    assert.equal(client.verdict.claims.simulated, true);
  });

  it('tampered ciphertext gets 400 and the same session keeps working; a replayed request gets 409', async () => {
    mitm.st.mode = 'pass';
    const c = await connectEnclave(mitm.url, { policy });
    mitm.st.mode = 'tamper-predict';
    await assert.rejects(c.predict(inputs.subarray(0, 64), 1), (e: unknown) => (e as EnclaveClientError).status === 400 && refusal('DECRYPT_FAILED')(e));
    mitm.st.mode = 'pass';
    const a = await c.predict(inputs.subarray(0, 128), 2);
    assert.equal(a.classes.length, 2);
    const replay = await fetch(`${svc.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: mitm.st.lastPredict! });
    assert.equal(replay.status, 409);
    assert.equal(((await replay.json()) as { error: { code: string } }).error.code, 'REPLAYED');
  });

  it('answers malformed requests with clear 4xx errors and keeps serving', async () => {
    const post = (path: string, body: string | Buffer, type = 'application/octet-stream') => fetch(svc.url + path, { method: 'POST', headers: { 'content-type': type }, body });
    const expect = async (p: Promise<Response>, status: number, code: string) => {
      const r = await p;
      assert.equal(r.status, status, code);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, code);
    };
    await expect(post('/predict', Buffer.alloc(100 * 1024)), 413, 'TOO_LARGE');
    await expect(post('/predict', 'x', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expect(post('/predict', Buffer.alloc(60)), 400, 'MALFORMED');
    await expect(post('/predict', Buffer.concat([Buffer.from('GCH1'), Buffer.alloc(60)])), 401, 'UNKNOWN_SESSION');
    await expect(post('/predict', '{"session":1}', 'application/json'), 400, 'MALFORMED');
    await expect(post('/predict', '{oops', 'application/json'), 400, 'BAD_JSON');
    await expect(post('/session', '{"v":1,"ephemeral":"AAAA"}'), 400, 'BAD_SESSION');
    await expect(post('/session', JSON.stringify({ v: 1, ephemeral: Buffer.alloc(32).toString('base64url') })), 400, 'BAD_SESSION');
    await expect(fetch(`${svc.url}/attestation?nonce=xyz`), 400, 'BAD_NONCE');
    await expect(fetch(`${svc.url}/nowhere`), 404, 'NOT_FOUND');
    await expect(post('/upload/begin', Buffer.alloc(60)), 404, 'NOT_FOUND'); // no owner key: no uploads
    await expect(fetch(`${svc.url}/predict`), 405, 'METHOD_NOT_ALLOWED');
    const q = (b: Buffer) => client.call('/predict', b);
    await assert.rejects(q(Buffer.from('{"inputs":[[1,2]]}')), refusal('BAD_QUERY'));
    await assert.rejects(q(Buffer.from(JSON.stringify({ inputs: [Array(64).fill(1e400)] }).replace(/null/g, '1e400'))), refusal('BAD_QUERY'));
    await assert.rejects(q(Buffer.from('GQI1')), refusal('BAD_QUERY'));
    // raw garbage on the socket
    await new Promise<void>((resolve) => {
      const s = connect(svc.port, '127.0.0.1', () => s.end('NOT HTTP AT ALL\r\n\r\n'));
      s.on('data', (d) => assert.match(d.toString(), /^HTTP\/1.1 400/));
      s.on('close', () => resolve());
    });
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    const a = await client.predict(inputs.subarray(0, 64), 1, 'json');
    assert.equal(a.classes.length, 1);
    // the JSON envelope form carries the same protocol
    const j = await connectEnclave(svc.url, { policy, envelope: 'json' });
    assert.deepEqual((await j.predict(inputs.subarray(0, 64), 1, 'json')).classes, a.classes);
  });

  it('batches concurrent queries and gives each the same answer as alone', async () => {
    const alone = await client.predict(inputs, 8);
    const before = ((await (await fetch(`${svc.url}/status`)).json()) as { predictions: { passes: number } }).predictions.passes;
    const clients = [client, await connectEnclave(svc.url, { policy }), await connectEnclave(svc.url, { policy })];
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => clients[i % 3].predict(inputs.subarray(i * 64, (i + 1) * 64), 1)));
    answers.forEach((a, i) => {
      assert.equal(a.classes[0], alone.classes[i]);
      a.scores.forEach((p, k) => assert.ok(Math.abs(p - alone.scores[i * 3 + k]) < 1e-5));
    });
    const passes = ((await (await fetch(`${svc.url}/status`)).json()) as { predictions: { passes: number } }).predictions.passes - before;
    assert.ok(passes < 8, `${passes} forward passes for 8 concurrent queries`);
  });
});

describe('sealed uploads under a hostile host', () => {
  it('an altered sealed chunk makes the commit fail clearly; a clean re-upload then commits', async () => {
    const dir = tempDir();
    const provider = quietProvider(dir);
    const owner = writeOwnerKey(join(dir, 'keys'));
    const backing = new MemoryBacking();
    const svc = await startService({
      provider, mode: 'plain', ownerKey: loadOwnerPublicKey(owner.pubFile), backing, maxUploadChunk: 1024, log: () => {},
      makeExecutor: (mode, seed) => createModeExecutor({ mode, backend: 'js', seed }),
    });
    try {
      const c = await connectEnclave(svc.url, { policy: devPolicy(provider) });
      const d = loadDataset(DATA, { limitTrain: 8, limitTest: 2, seed: 1 });
      const begin = await c.callJson('/upload/begin', { header: datasetHeaderOf(d) });
      const head = Buffer.alloc(36);
      head.write(String(begin.upload), 0, 'latin1');
      const payload = Buffer.concat(datasetPayloadParts(d));
      for (let i = 0, at = 0; at < payload.length; i++, at += 1024) {
        head.writeUInt32LE(i, 32);
        await c.call('/upload/chunk', Buffer.concat([head, payload.subarray(at, at + 1024)]));
      }
      await assert.rejects(c.callJson('/upload/chunk', {}), refusal('BAD_CHUNK'));
      const [key, blob] = [...backing.blobs][1];
      const t = Uint8Array.from(blob);
      t[t.length - 3] ^= 1; // the host flips a bit in a sealed chunk
      backing.blobs.set(key, t);
      const sha256 = createHash('sha256').update(payload).digest('hex');
      await assert.rejects(c.callJson('/upload/commit', { upload: begin.upload, sha256 }), (e: unknown) => refusal('SEALED_STORAGE_REJECTED')(e) && /ALTERED/.test((e as Error).message));
      await assert.rejects(c.callJson('/upload/commit', { upload: begin.upload, sha256 }), refusal('UNKNOWN_UPLOAD'));
      const ok = await uploadDataset(c, d);
      assert.equal(ok.train, 8);
      await assert.rejects(uploadDataset(c, loadDataset('synthetic:3x8x8:3', { limitTrain: 2, limitTest: 1 })), refusal('SHAPE_MISMATCH'));
    } finally {
      await svc.close();
    }
  });
});
