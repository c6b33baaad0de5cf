/**
 * The client library: talk to a Goten enclave service only after verifying it.
 *
 *   const c = await connectEnclave('http://host:port', { policy: loadPolicy('policy.json') });
 *   const answer = await c.predict(values, count);            // encrypted both ways
 *
 * connectEnclave, in order — nothing of the caller's is sent before step 4:
 *  1. GET /attestation?nonce=<32 random bytes>  (the nonce makes the report fresh)
 *  2. verifyReport(report, policy, {expectedKeyBinding: {channelKey, serviceBindingNonce(config, nonce)}}):
 *     signature chain, measurement, debug/simulation, and that the report data binds THIS channel key, THIS
 *     config text and OUR nonce. Refusals are AttestationErrors (MEASUREMENT_MISMATCH, SIGNATURE,
 *     UNTRUSTED_SIMULATED_KEY, KEY_BINDING_MISMATCH, …). A policy with keyBinding "none" is refused
 *     (KEY_BINDING_REQUIRED): without it the channel key would be unauthenticated.
 *  3. the attested config: optional expectations (owner key, model digest) → OWNER_MISMATCH / MODEL_MISMATCH.
 *  4. POST /session with a fresh ephemeral key (and the owner key for owner sessions); the enclave's key
 *     confirmation proves it holds the attested channel key (CONFIRM_FAILED otherwise).
 * Every later request is an envelope under the session keys (channel.ts) with a fresh sequence number.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { AttestationError, decodeReport, verifyReport, type AttestationPolicy, type PolicyVerdict } from '../tee/index.js';
import {
  b64u, clientFinish, decodeEnvelope, encodeEnvelope, envelopeFromJson, envelopeToJson, fromB64u, generateX25519, openMessage, rawX25519, sealMessage, x25519FromSpki,
  type SessionKeys,
} from '../wire/channel.js';
import { type Answer, decodeAnswer, encodeQuery, type QueryForm } from '../wire/codec.js';
import { parseServiceConfig, serviceBindingNonce, type ServiceConfig } from '../wire/service-config.js';

export class EnclaveClientError extends Error {
  override readonly name = 'EnclaveClientError';
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface ConnectOptions {
  policy: AttestationPolicy;
  /** owner sessions: the owner's X25519 private key (also pins the config's owner to it) */
  ownerKey?: KeyObject;
  /** refuse unless the attested config names this owner (X25519 public key) */
  expectOwner?: KeyObject;
  /** refuse unless the attested config serves this checkpoint (SHA-256 hex) */
  expectModel?: string;
  timeoutMs?: number;
  /** envelope encoding on the wire (default binary; json = base64url fields) */
  envelope?: 'binary' | 'json';
}

export async function connectEnclave(url: string, o: ConnectOptions): Promise<EnclaveClient> {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 60_000;
  if (o.policy.keyBinding === 'none') {
    throw new EnclaveClientError('KEY_BINDING_REQUIRED', 'the policy has keyBinding "none": the channel key would not be attested, refusing to connect');
  }
  const nonce = randomBytes(32);
  const att = (await httpJson(`${base}/attestation?nonce=${nonce.toString('hex')}`, undefined, timeoutMs)) as Record<string, unknown>;
  if (typeof att.report !== 'string' || typeof att.channelKey !== 'string' || typeof att.config !== 'string') {
    throw new EnclaveClientError('MALFORMED', 'the attestation answer lacks report, channelKey or config');
  }
  const channelSpki = Buffer.from(att.channelKey, 'base64');
  const report = decodeReport(Buffer.from(att.report, 'base64'));
  // throws AttestationError with the refusal code; nothing has been sent yet
  const verdict = verifyReport(report, o.policy, { expectedKeyBinding: { publicKey: channelSpki, nonce: serviceBindingNonce(att.config, nonce) } });
  const channelKey = x25519FromSpki(channelSpki);
  let config: ServiceConfig;
  try {
    config = parseServiceConfig(att.config);
  } catch (e) {
    throw new EnclaveClientError('MALFORMED', `attested config: ${(e as Error).message}`);
  }
  const wantOwner = o.expectOwner ?? o.ownerKey;
  if (wantOwner && config.owner !== rawX25519(wantOwner).toString('hex')) {
    throw new EnclaveClientError('OWNER_MISMATCH', `the enclave's attested owner key is ${config.owner ?? '(none)'}, not ${rawX25519(wantOwner).toString('hex')}: it would hand the model to someone else`);
  }
  if (o.expectModel && config.model?.digest !== o.expectModel.toLowerCase()) {
    throw new EnclaveClientError('MODEL_MISMATCH', `the enclave serves model ${config.model?.digest ?? '(none)'}, not ${o.expectModel}`);
  }
  const eph = generateX25519();
  const ephRaw = rawX25519(eph.publicKey);
  const owner = o.ownerKey ? { privateKey: o.ownerKey, raw: rawX25519(o.ownerKey) } : undefined;
  const ans = (await httpJson(`${base}/session`, { v: 1, ephemeral: b64u(ephRaw), ...(owner ? { owner: b64u(owner.raw) } : {}) }, timeoutMs)) as Record<string, unknown>;
  let keys: SessionKeys;
  try {
    keys = clientFinish(channelKey, { privateKey: eph.privateKey, raw: ephRaw }, {
      session: fromB64u(ans.session, 'session'),
      ephemeral: fromB64u(ans.ephemeral, 'ephemeral'),
      confirm: fromB64u(ans.confirm, 'confirm'),
    }, owner);
  } catch (e) {
    const c = (e as { code?: string }).code ?? 'MALFORMED';
    throw new EnclaveClientError(c, (e as Error).message);
  }
  return new EnclaveClient(base, config, verdict, keys, timeoutMs, o.envelope ?? 'binary');
}

async function httpJson(url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new EnclaveClientError('UNREACHABLE', `${url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw errorFrom(res.status, text);
  try {
    return JSON.parse(text);
  } catch {
    throw new EnclaveClientError('MALFORMED', `${url} did not answer JSON`);
  }
}

function errorFrom(status: number, text: string): EnclaveClientError {
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (e?.code) return new EnclaveClientError(e.code, e.message ?? '', status);
  } catch {
    /* not JSON */
  }
  return new EnclaveClientError('HTTP_' + status, text.slice(0, 200), status);
}

export class EnclaveClient {
  private seq = 0n;

  constructor(
    readonly url: string,
    /** the attested service configuration */
    readonly config: ServiceConfig,
    readonly verdict: PolicyVerdict,
    private readonly keys: SessionKeys,
    private readonly timeoutMs: number,
    private readonly envelope: 'binary' | 'json' = 'binary',
  ) {}

  /** One encrypted request; returns the decrypted response plaintext (throws EnclaveClientError on 4xx/5xx). */
  async call(route: string, plaintext: Uint8Array): Promise<Buffer> {
    const seq = ++this.seq;
    const env = sealMessage(this.keys.c2s, this.keys.sessionId, seq, 'req', route, plaintext);
    let res: Response;
    try {
      const json = this.envelope === 'json';
      res = await fetch(this.url + route, {
        method: 'POST',
        // the session in a header lets the service refuse an unknown one before reading the body
        headers: { 'content-type': json ? 'application/json' : 'application/octet-stream', 'x-goten-session': Buffer.from(this.keys.sessionId).toString('base64url') },
        body: json ? JSON.stringify(envelopeToJson(env)) : encodeEnvelope(env),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new EnclaveClientError('UNREACHABLE', `${this.url}${route}: ${(e as Error).message}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw errorFrom(res.status, body.toString('utf8'));
    let reply;
    try {
      reply = this.envelope === 'json' ? envelopeFromJson(JSON.parse(body.toString('utf8'))) : decodeEnvelope(body);
    } catch (e) {
      throw new EnclaveClientError('MALFORMED', `the response is not an envelope: ${(e as Error).message}`);
    }
    if (reply.seq !== seq || !Buffer.from(reply.sessionId).equals(Buffer.from(this.keys.sessionId))) {
      throw new EnclaveClientError('MALFORMED', 'the response belongs to another request');
    }
    return openMessage(this.keys.s2c, reply, 'res', route);
  }

  async callJson(route: string, value: unknown): Promise<Record<string, unknown>> {
    return JSON.parse((await this.call(route, Buffer.from(JSON.stringify(value), 'utf8'))).toString('utf8')) as Record<string, unknown>;
  }

  /** Classifies `count` inputs (values in the data's natural range, C·H·W each). */
  async predict(values: Float32Array, count: number, form: QueryForm = 'binary'): Promise<Answer> {
    const m = this.config.model;
    if (!m) throw new EnclaveClientError('NOT_READY', 'the attested config has no model');
    const a = decodeAnswer(await this.call('/predict', encodeQuery(form, values, count, m.inputShape)));
    if (a.model !== m.digest) throw new EnclaveClientError('MODEL_CHANGED', `answered by model ${a.model.slice(0, 16)}…, attested ${m.digest.slice(0, 16)}…: reconnect`);
    return a;
  }
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export { AttestationError };
