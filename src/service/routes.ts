/**
 * The encrypted endpoints of the enclave service: each takes a channel envelope (channel.ts), runs its
 * handler on the authenticated plaintext and answers with an envelope under the same session and seq.
 *
 * Order of checks, and why: media type (415) and size limit (413) before reading more than the limit;
 * envelope structure (400 MALFORMED); session known and alive (401 UNKNOWN_SESSION: the client re-keys);
 * AES-GCM authentication with the route in the AAD (400 DECRYPT_FAILED: tampered, or sent to another
 * endpoint); only THEN the replay window (409 REPLAYED) — checked after authentication so that forged
 * packets cannot burn sequence numbers; owner-only routes (403 OWNER_ONLY) need a session keyed with the
 * owner key. A refused request changes nothing and the service keeps serving.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ChannelError, decodeEnvelope, encodeEnvelope, envelopeFromJson, envelopeToJson, openMessage, sealMessage, type Envelope,
} from '../wire/channel.js';
import { HttpError, mediaType, parseJsonBody, readBody, sendBinary, sendJson } from './http-util.js';
import type { Session, SessionTable } from './sessions.js';

export interface RouteResult {
  status?: number;
  body: Uint8Array;
}

export interface EncryptedRoute {
  /** body limit in bytes (envelope included) */
  limit: number;
  ownerOnly?: boolean;
  handler(plaintext: Buffer, session: Session): Promise<RouteResult>;
}

export async function serveEncrypted(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  r: EncryptedRoute,
  sessions: SessionTable,
  headers: Record<string, string>,
): Promise<void> {
  const type = mediaType(req);
  if (type !== 'application/octet-stream' && type !== 'application/json') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send an encrypted envelope as application/octet-stream (binary) or application/json');
  }
  const body = await readBody(req, r.limit);
  let env: Envelope;
  try {
    env = type === 'application/json' ? envelopeFromJson(parseJsonBody(body)) : decodeEnvelope(body);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'MALFORMED', (e as Error).message);
  }
  const s = sessions.get(env.sessionId);
  if (!s) throw new HttpError(401, 'UNKNOWN_SESSION', 'unknown or expired session: verify the attestation and open a new session');
  let pt: Buffer;
  try {
    pt = openMessage(s.keys.c2s, env, 'req', route);
  } catch (e) {
    throw new HttpError(400, (e as ChannelError).code ?? 'DECRYPT_FAILED', (e as Error).message);
  }
  if (!s.replay.accept(env.seq)) throw new HttpError(409, 'REPLAYED', `sequence number ${env.seq} was already used (or is too old) in this session`);
  if (r.ownerOnly && !s.owner) throw new HttpError(403, 'OWNER_ONLY', `${route} is for the model owner: open the session with the owner key`);
  const out = await r.handler(pt, s);
  const reply = sealMessage(s.keys.s2c, env.sessionId, env.seq, 'res', route, out.body);
  if (type === 'application/json') sendJson(res, out.status ?? 200, envelopeToJson(reply), headers);
  else sendBinary(res, out.status ?? 200, encodeEnvelope(reply), headers);
}

/** JSON plaintext of a request (400 on anything else). */
export function jsonOf(pt: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(pt.toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'the decrypted request is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'BAD_JSON', 'the decrypted request must be a JSON object');
  return v as Record<string, unknown>;
}

export const jsonResult = (v: unknown, status?: number): RouteResult => ({ status, body: Buffer.from(JSON.stringify(v), 'utf8') });
