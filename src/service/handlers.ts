/**
 * Handlers of the encrypted endpoints (the plaintext inside the envelopes; formats in wire/codec.ts,
 * uploads.ts and training.ts). The trained model is sealed under the provider key into a SealedChunkStore
 * ("model" stream) the moment training ends; /download unseals it and re-encrypts it to the owner key
 * (owner box) — the plaintext model never leaves the enclave in any other form.
 */
import type { KeyObject } from 'node:crypto';
import { rawX25519 } from '../wire/channel.js';
import { CodecError, decodeQuery, encodeAnswer } from '../wire/codec.js';
import { sealToOwner } from '../wire/owner-box.js';
import type { ServiceConfig } from '../wire/service-config.js';
import type { LinearExecutor } from '../nn/executor.js';
import { SealedChunkStore, type Sealer, type UntrustedBacking } from '../tee/index.js';
import type { PredictionBatcher } from './batcher.js';
import { HttpError } from './http-util.js';
import { argmaxRows, type InferenceModel, normalizeInputs, softmaxRows } from '../nn/inference.js';
import { type EncryptedRoute, jsonOf, jsonResult } from './routes.js';
import { parseTrainRequest, type TrainingJob } from './training.js';
import type { UploadStore } from './uploads.js';

export interface ServiceCore {
  model: InferenceModel | null;
  readonly batcher: PredictionBatcher;
  readonly sealer: Sealer;
  readonly backing: UntrustedBacking;
  readonly ownerKey: KeyObject | null;
  readonly maxInputsPerQuery: number;
  uploads: UploadStore | null;
  training: TrainingJob | null;
  log(line: string): void;
  config(): ServiceConfig;
  /** serves `checkpoint`; `executor` (a finished training run's) is adopted if none serves yet and its mode fits */
  setModel(checkpoint: Uint8Array, executor?: LinearExecutor): Promise<{ model: InferenceModel; adopted: boolean }>;
}

export function predictRoute(core: ServiceCore, limit: number): EncryptedRoute {
  return {
    limit,
    async handler(pt) {
      const im = core.model;
      if (!im) throw new HttpError(409, 'NOT_READY', 'no model is loaded yet (the enclave has not been trained)');
      let q;
      let x;
      try {
        q = decodeQuery(pt, im.inputShape, core.maxInputsPerQuery);
        x = normalizeInputs(im, q.values, q.count);
      } catch (e) {
        if (e instanceof CodecError || e instanceof RangeError) throw new HttpError(400, 'BAD_QUERY', e.message);
        throw e;
      }
      const logits = await core.batcher.submit(im, x, q.count);
      const classes = argmaxRows(logits, q.count, im.numClasses);
      const scores = softmaxRows(logits, q.count, im.numClasses);
      return { body: encodeAnswer(q.form, { model: im.digest, classes, scores, numClasses: im.numClasses }) };
    },
  };
}

export function lifecycleRoutes(core: ServiceCore, maxChunk: number) {
  const models = new SealedChunkStore(core.sealer, core.backing, 'model');
  const ownerHex = core.ownerKey ? rawX25519(core.ownerKey).toString('hex') : '';
  const uploads = (): UploadStore => {
    if (!core.uploads) throw new HttpError(404, 'NOT_FOUND', 'uploads are disabled');
    return core.uploads;
  };
  const training = (): TrainingJob => {
    if (!core.training) throw new HttpError(404, 'NOT_FOUND', 'training is disabled');
    return core.training;
  };
  const routes: Record<string, EncryptedRoute> = {
    '/upload/begin': {
      limit: 64 * 1024,
      handler: async (pt) => jsonResult(uploads().begin(jsonOf(pt).header)),
    },
    '/upload/chunk': {
      limit: maxChunk + 1024,
      handler: async (pt) => jsonResult(await uploads().chunk(pt)),
    },
    '/upload/commit': {
      limit: 64 * 1024,
      async handler(pt) {
        const v = jsonOf(pt);
        const r = await uploads().commit(v.upload, v.sha256);
        core.log(`upload committed: ${r.train} train + ${r.test} test samples (sealed)`);
        return jsonResult(r);
      },
    },
    '/train': {
      limit: 128 * 1024,
      ownerOnly: true,
      async handler(pt) {
        const req = parseTrainRequest(jsonOf(pt));
        const job = training();
        if (job.state === 'training') throw new HttpError(409, 'BUSY', 'a training run is already in progress');
        job.start(req, await uploads().assemble());
        return jsonResult({ state: job.state }, 202);
      },
    },
    '/train/status': {
      limit: 4096,
      ownerOnly: true,
      handler: async () => jsonResult(training().ownerStatus()),
    },
    '/download': {
      limit: 4096,
      ownerOnly: true,
      async handler() {
        if (!models.has('trained')) throw new HttpError(409, 'NOT_READY', `no trained model yet (training is ${training().state})`);
        const ck = await models.get('trained');
        try {
          return { body: sealToOwner(core.ownerKey!, 'model', ck) };
        } finally {
          ck.fill(0);
        }
      },
    },
  };
  return {
    routes,
    ownerHex,
    /** Seals the finished model, then serves it; true if the training executor now serves predictions. */
    async onTrained(checkpoint: Uint8Array, executor: LinearExecutor): Promise<boolean> {
      await models.put('trained', checkpoint);
      const { adopted } = await core.setModel(checkpoint, executor);
      checkpoint.fill(0);
      return adopted;
    },
  };
}
