/**
 * Stakeholder flows on top of an attested, encrypted EnclaveClient session:
 *  - data contributor: uploadDataset — begin (header), ordered chunks, commit with the payload's SHA-256
 *    (the enclave checks it, so a lost, reordered or altered chunk cannot go unnoticed);
 *  - model owner: startTraining / waitForTraining (owner session) and downloadModel, which opens the owner
 *    box with the owner's private key and checks that the result is a Goten checkpoint.
 * Formats: service/uploads.ts, service/training.ts, wire/owner-box.ts.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { Dataset } from '../data/dataset.js';
import { decodeCheckpoint } from '../nn/checkpoint.js';
import { datasetHeaderOf, datasetPayloadParts } from '../wire/codec.js';
import { type EnclaveClient, EnclaveClientError } from './enclave-client.js';
import { openOwnerBox } from '../wire/owner-box.js';

export interface UploadResult {
  dataset: string;
  train: number;
  test: number;
  bytes: number;
  chunks: number;
}

export async function uploadDataset(c: EnclaveClient, d: Dataset, onProgress?: (sent: number, total: number) => void): Promise<UploadResult> {
  if (!c.config.owner) throw new EnclaveClientError('UPLOADS_DISABLED', 'this enclave has no model owner configured, so it accepts no uploads');
  const begin = await c.callJson('/upload/begin', { header: datasetHeaderOf(d) });
  const id = String(begin.upload);
  const total = Number(begin.bytes);
  const chunkBytes = Math.max(1, Math.min(Number(begin.chunkBytes), c.config.maxUploadChunk));
  const hash = createHash('sha256');
  let index = 0;
  let sent = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const head = Buffer.alloc(36);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(index++, 32);
    await c.call('/upload/chunk', Buffer.concat([head, data]));
    sent += data.length;
    onProgress?.(sent, total);
  };
  for (const part of datasetPayloadParts(d)) {
    hash.update(part);
    for (let at = 0; at < part.length; ) {
      const n = Math.min(chunkBytes - pendingBytes, part.length - at);
      pending.push(part.subarray(at, at + n));
      pendingBytes += n;
      at += n;
      if (pendingBytes === chunkBytes) await flush();
    }
  }
  if (pendingBytes > 0) await flush();
  const r = await c.callJson('/upload/commit', { upload: id, sha256: hash.digest('hex') });
  return { dataset: String(r.dataset), train: Number(r.train), test: Number(r.test), bytes: sent, chunks: index };
}

export interface TrainParams {
  model: string | Record<string, unknown>;
  epochs: number;
  batch?: number;
  lr?: number;
  seed?: number;
  optimizer?: 'sgd' | 'adam';
  momentum?: number;
  weightDecay?: number;
  schedule?: string;
}

export async function startTraining(c: EnclaveClient, p: TrainParams): Promise<void> {
  let model: unknown = p.model;
  if (typeof model === 'string' && model.trim().startsWith('{')) model = JSON.parse(model);
  await c.callJson('/train', { ...p, model });
}

export interface TrainingStatus {
  state: 'idle' | 'training' | 'trained' | 'failed';
  epochs: Record<string, number | string>[];
  error?: string;
}

export async function trainingStatus(c: EnclaveClient): Promise<TrainingStatus> {
  return (await c.callJson('/train/status', {})) as unknown as TrainingStatus;
}

/** Polls until the run ends; throws if it failed. */
export async function waitForTraining(c: EnclaveClient, o: { pollMs?: number; timeoutMs?: number; onStatus?: (s: TrainingStatus) => void } = {}): Promise<TrainingStatus> {
  const end = Date.now() + (o.timeoutMs ?? 24 * 3600_000);
  for (;;) {
    const s = await trainingStatus(c);
    o.onStatus?.(s);
    if (s.state === 'trained') return s;
    if (s.state === 'failed') throw new EnclaveClientError('TRAINING_FAILED', s.error ?? 'training failed in the enclave');
    if (s.state === 'idle') throw new EnclaveClientError('NOT_TRAINING', 'no training run was started');
    if (Date.now() > end) throw new EnclaveClientError('TIMEOUT', 'training did not finish in time');
    await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
  }
}

/** The trained checkpoint (safetensors bytes), opened from its owner box with the owner's private key. */
export async function downloadModel(c: EnclaveClient, ownerPrivate: KeyObject): Promise<Buffer> {
  const box = await c.call('/download', Buffer.from('{}'));
  const ck = openOwnerBox(ownerPrivate, 'model', box);
  decodeCheckpoint(ck, 'downloaded model'); // structural check before the caller writes it anywhere
  return ck;
}
