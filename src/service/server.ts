/**
 * `goten serve`: the enclave's HTTP service (node:http). Plaintext endpoints reveal nothing secret:
 *   GET  /healthz                      {"ok": true}; secure mode also {"workers": {"w0": "connected" | "reconnecting"
 *                                      | "lost", …}}, and "ok": false with status 503 while a worker is lost
 *   GET  /attestation?nonce=<hex>      fresh report + channel key + attested config (wire/service-config.ts)
 *   GET  /status                       public state: model digest, upload counts, training state/epoch
 *   POST /session                      {"v":1,"ephemeral","owner"?} → {"v":1,"session","ephemeral","confirm"} (channel.ts)
 * Encrypted endpoints (channel envelopes, routes.ts):
 *   POST /predict                      queries → class scores (wire/codec.ts), batched (batcher.ts)
 *   POST /upload/begin|chunk|commit    data contributors' uploads, sealed at once (uploads.ts)
 *   POST /train, /train/status         owner only: secure training on the uploads (training.ts)
 *   POST /download                     owner only: the trained model in an owner box (wire/owner-box.ts)
 * Uploads, training and download exist only when an owner key is configured. Every request is untrusted:
 * bodies are size-limited, every failure is a 4xx/5xx JSON error, and no handler error stops the server.
 * The simulated TEE is announced on start, in every attestation answer and in an X-Goten-TEE header.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type KeyObject } from 'node:crypto';
import { b64u, fromB64u, serverAccept } from '../wire/channel.js';
import type { ServiceConfig } from '../wire/service-config.js';
import type { Mode } from '../modes/executors.js';
import type { LinearExecutor } from '../nn/executor.js';
import { MemoryBacking, SealError, type TeeProvider, type UntrustedBacking } from '../tee/index.js';
import { PredictionBatcher } from './batcher.js';
import { HttpError, parseJsonBody, readBody, sendError, sendJson } from './http-util.js';
import { ServiceIdentity } from './identity.js';
import { InFlight, type InFlightLimits } from './inflight.js';
import { inferenceModelFromBytes } from '../onnx/model-bytes.js';
import { type EncryptedRoute, serveEncrypted } from './routes.js';
import { SessionTable } from './sessions.js';
import { lifecycleRoutes, predictRoute, type ServiceCore } from './handlers.js';
import { TrainingJob } from './training.js';
import { UploadStore } from './uploads.js';

export interface ServiceOptions {
  provider: TeeProvider;
  host?: string;
  /** 0 = any free port */
  port?: number;
  /** executor of the prediction forward pass */
  mode: Mode;
  /** builds executors (secure: launches local workers); `seed` seeds quantization noise */
  makeExecutor(mode: Mode, seed: number): Promise<LinearExecutor>;
  /** checkpoint to serve from the start */
  modelBytes?: Uint8Array;
  /** the model owner's X25519 public key: enables uploads, training and download */
  ownerKey?: KeyObject;
  trainMode?: Mode;
  /** untrusted storage for sealed uploads and models (default: host memory) */
  backing?: UntrustedBacking;
  maxBatch?: number;
  maxInputsPerQuery?: number;
  maxQueuedInputs?: number;
  maxPredictBody?: number;
  maxUploadChunk?: number;
  maxUploadBytes?: number;
  maxSessions?: number;
  sessionTtlMs?: number;
  /** bounds on encrypted requests read at once (inflight.ts) */
  inFlight?: InFlightLimits;
  log?: (line: string) => void;
}

export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly core: ServiceCore;
  close(): Promise<void>;
}

export async function startService(o: ServiceOptions): Promise<RunningService> {
  const log = o.log ?? ((l: string) => process.stderr.write(`[goten serve] ${l}\n`));
  const identity = new ServiceIdentity(o.provider);
  const sessions = new SessionTable(o.maxSessions ?? 1024, o.sessionTtlMs ?? 15 * 60_000);
  const inFlight = new InFlight(o.inFlight);
  const maxBatch = o.maxBatch ?? 32;
  const batcher = new PredictionBatcher({ maxBatch, maxQueuedInputs: o.maxQueuedInputs ?? 16 * 1024 });
  const sealer = await o.provider.sealer();
  const backing = o.backing ?? new MemoryBacking();
  let servingExecutor: LinearExecutor | null = null;
  const core: ServiceCore = {
    model: null,
    batcher,
    sealer,
    backing,
    ownerKey: o.ownerKey ?? null,
    maxInputsPerQuery: o.maxInputsPerQuery ?? 256,
    uploads: null,
    training: null,
    log,
    config: () => config(),
    async setModel(bytes: Uint8Array, executor?: LinearExecutor) {
      const adopted = servingExecutor === null && executor !== undefined && executor.mode === o.mode;
      if (adopted) servingExecutor = executor;
      servingExecutor ??= await o.makeExecutor(o.mode, 1);
      const im = inferenceModelFromBytes(bytes, servingExecutor, 'model');
      core.model = im;
      log(`serving ${im.name} (sha256 ${im.digest.slice(0, 16)}…, ${im.inputShape.join('×')} → ${im.numClasses} classes, ${o.mode})`);
      return { model: im, adopted };
    },
  };
  const maxChunk = o.maxUploadChunk ?? 4 << 20;
  const trainMode = o.trainMode ?? o.mode;
  if (o.ownerKey) {
    core.uploads = new UploadStore(sealer, backing, { maxTotalBytes: o.maxUploadBytes ?? 256 << 20, maxPending: 16, maxChunk });
    core.training = new TrainingJob(trainMode, (seed) => o.makeExecutor(trainMode, seed), (ck, ex) => lifecycle.onTrained(ck, ex), log);
  }
  const lifecycle = lifecycleRoutes(core, maxChunk);
  const routes: Record<string, EncryptedRoute> = {
    '/predict': predictRoute(core, o.maxPredictBody ?? 64 << 20),
    ...(o.ownerKey ? lifecycle.routes : {}),
  };

  function config(): ServiceConfig {
    const m = core.model;
    return {
      v: 1,
      service: 'goten-serve',
      tee: o.provider.kind,
      simulated: o.provider.simulated,
      mode: o.mode,
      model: m ? { name: m.name, digest: m.digest, inputShape: [...m.inputShape], numClasses: m.numClasses } : null,
      owner: core.ownerKey ? lifecycle.ownerHex : null,
      trainMode: o.ownerKey ? trainMode : null,
      maxBatch,
      maxInputsPerQuery: core.maxInputsPerQuery,
      maxUploadChunk: maxChunk,
    };
  }

  const headers: Record<string, string> = o.provider.simulated ? { 'x-goten-tee': 'SIMULATED - NO SECURITY' } : { 'x-goten-tee': o.provider.kind };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://service');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      if (path === '/healthz') {
        // the serving executor's workers (secure mode): a lost one is re-connected at the next query
        const workers = servingExecutor?.workers();
        const ok = !workers || Object.values(workers).every((s) => s !== 'lost');
        return sendJson(res, ok ? 200 : 503, workers && Object.keys(workers).length > 0 ? { ok, workers } : { ok }, headers);
      }
      if (path === '/attestation') return sendJson(res, 200, await identity.attestation(JSON.stringify(config()), url.searchParams.get('nonce')), headers);
      if (path === '/status') {
        return sendJson(res, 200, {
          model: core.model ? core.model.digest : null,
          simulated: o.provider.simulated,
          uploads: core.uploads?.status() ?? null,
          training: core.training?.publicStatus() ?? null,
          predictions: { passes: batcher.passes, inputs: batcher.inputs },
        }, headers);
      }
    }
    if (method === 'POST' && path === '/session') return openSession(req, res);
    const r = routes[path];
    if (r && method === 'POST') return serveEncrypted(req, res, path, r, sessions, headers, inFlight);
    if (r || ['/healthz', '/attestation', '/status', '/session'].includes(path)) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`);
    throw new HttpError(404, 'NOT_FOUND', `no endpoint ${path}${path.startsWith('/upload') || path.startsWith('/train') || path === '/download' ? ' (this service has no owner key: uploads and training are disabled)' : ''}`);
  }

  async function openSession(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const v = parseJsonBody(await readBody(req, 4096)) as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || v.v !== 1) throw new HttpError(400, 'BAD_SESSION', 'expected {"v":1,"ephemeral":…}');
    let owner: Buffer | undefined;
    try {
      const eC = fromB64u(v.ephemeral, 'ephemeral', 32);
      if (v.owner !== undefined) owner = fromB64u(v.owner, 'owner', 32);
      // a session claiming an owner key other than the configured one could never be useful: refuse early
      if (owner && (!core.ownerKey || owner.toString('hex') !== lifecycle.ownerHex)) throw new HttpError(403, 'NOT_OWNER', 'this key is not the owner key of this enclave');
      const a = serverAccept({ privateKey: identity.privateKey, spki: identity.spki }, eC, owner);
      const s = sessions.add(a.keys, owner !== undefined);
      sendJson(res, 200, { v: 1, session: b64u(a.keys.sessionId), ephemeral: b64u(a.ephemeral), confirm: b64u(a.confirm), owner: s.owner, ttlMs: sessions.ttlMs }, headers);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, 'BAD_SESSION', (e as Error).message);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) return sendError(res, e, headers);
      // the host altered, swapped or dropped sealed data: say so (chunk ids only, never contents)
      if (e instanceof SealError) return sendError(res, new HttpError(500, 'SEALED_STORAGE_REJECTED', e.message), headers);
      log(`internal error on ${req.method} ${new URL(req.url ?? '/', 'http://service').pathname}: ${(e as Error).message}`);
      sendError(res, new HttpError(500, 'INTERNAL', 'internal error (see the service log)'), headers);
    });
  });
  server.requestTimeout = 120_000;
  server.headersTimeout = 20_000;
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  try {
    if (o.modelBytes) await core.setModel(o.modelBytes);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new Error(`port ${o.port} on ${o.host ?? '127.0.0.1'} is already in use (choose another with --port)`) : e),
      );
      server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
    });
  } catch (e) {
    // the executor may own worker processes (secure mode): left open, they keep `goten serve` alive
    batcher.close();
    // (set by setModel through `core`, which TypeScript's narrowing cannot see)
    await (servingExecutor as LinearExecutor | null)?.close().catch(() => {});
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${o.host ?? '127.0.0.1'}:${port}`;
  if (o.provider.simulated) log('WARNING: SIMULATED TEE — NO SECURITY. Attestation reports can be forged; for development and CI only.');
  log(`listening on ${url} (${o.provider.kind} TEE, predictions ${o.mode}${o.ownerKey ? `, uploads + ${trainMode} training for owner ${lifecycle.ownerHex.slice(0, 16)}…` : ''})`);
  return {
    url,
    port,
    core,
    async close() {
      batcher.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await core.training?.settled();
      sessions.clear();
      await servingExecutor?.close();
    },
  };
}
