/**
 * The service configuration an enclave attests to, and how it is bound into the attestation report.
 *
 * GET /attestation?nonce=<hex, ≤ 32 bytes> answers
 *   {"v":1, "report": b64(GOTENATT container), "channelKey": b64(SPKI DER of the X25519 channel key),
 *    "config": "<the ServiceConfig as JSON text>", "nonce": "<hex>", "binding": "goten-v1",
 *    "simulated": bool, "warning"?: "SIMULATED TEE — NO SECURITY …"}
 * with report data = bindingReportData(rule, {publicKey: channelKey, nonce: serviceBindingNonce(config, nonce)})
 * (src/tee/binding.ts), i.e. for goten-v1
 *   SHA-512("goten-attest-v1" ‖ 0x00 ‖ SPKI ‖ SHA-256("goten/service-config/v1" ‖ 0x00 ‖ config) ‖ nonce).
 * So one verified report proves three things: the code (measurement), that the channel key was made by that
 * code (only it can have asked for this report data), and the exact configuration text — which model answers
 * (its checkpoint digest) and which owner key receives trained models. The client's random nonce makes the
 * report fresh (a recorded report for an old key or config cannot be replayed). The config travels as text
 * and is hashed as received, so no canonical JSON is needed.
 */
import { createHash } from 'node:crypto';

export interface ServiceModelInfo {
  name: string;
  /** SHA-256 hex of the checkpoint bytes */
  digest: string;
  inputShape: [number, number, number];
  numClasses: number;
}

export interface ServiceConfig {
  v: 1;
  service: 'goten-serve';
  tee: string;
  simulated: boolean;
  /** executor of the prediction forward pass */
  mode: string;
  /** the model that answers /predict (null until one is loaded or trained) */
  model: ServiceModelInfo | null;
  /** hex raw X25519 key of the model owner (uploads, training and download are enabled only with one) */
  owner: string | null;
  /** executor of enclave training (null when training is disabled) */
  trainMode: string | null;
  maxBatch: number;
  maxInputsPerQuery: number;
  maxUploadChunk: number;
}

export const MAX_CLIENT_NONCE = 32;

export function serviceBindingNonce(configJson: string, clientNonce: Uint8Array): Uint8Array {
  const d = createHash('sha256').update('goten/service-config/v1\0').update(configJson, 'utf8').digest();
  return new Uint8Array(Buffer.concat([d, clientNonce]));
}

/** Structural check of a config received from a service (after its report verified). */
export function parseServiceConfig(text: string): ServiceConfig {
  let c: ServiceConfig;
  try {
    c = JSON.parse(text) as ServiceConfig;
  } catch {
    throw new Error('service config is not JSON');
  }
  if (c?.v !== 1 || c.service !== 'goten-serve') throw new Error('not a goten-serve config (v1)');
  for (const k of ['maxBatch', 'maxInputsPerQuery', 'maxUploadChunk'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new Error(`service config has a bad ${k}`);
  }
  if (c.model !== null) {
    const m = c.model;
    if (typeof m?.digest !== 'string' || !/^[0-9a-f]{64}$/.test(m.digest)) throw new Error('service config has a bad model digest');
    if (!Array.isArray(m.inputShape) || m.inputShape.length !== 3 || !m.inputShape.every((x) => Number.isSafeInteger(x) && x >= 1)) {
      throw new Error('service config has a bad model input shape');
    }
    if (!Number.isSafeInteger(m.numClasses) || m.numClasses < 1) throw new Error('service config has a bad numClasses');
  }
  if (c.owner !== null && (typeof c.owner !== 'string' || !/^[0-9a-f]{64}$/.test(c.owner))) throw new Error('service config has a bad owner key');
  return c;
}
