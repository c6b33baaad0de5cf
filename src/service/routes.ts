/**
 * The encrypted endpoints of the enclave service: each takes a channel envelope (channel.ts), runs its
 * handler on the authenticated plaintext and answers with an envelope under the same session and seq.
 *
 * Order of checks, and why: media type (415); the session named in the x-goten-session header (401, before
 * reading the body; without the header only a small body is accepted); the in-flight bounds (503 BUSY,
 * inflight.ts); size limit (413) before reading more than the limit;
 * envelope structure (400 MALFORMED); session known and alive (401 UNKNOWN_SESSION: the client re-keys);
 * AES-GCM authentication with the route in the AAD (400 DECRYPT_FAILED: tampered, or sent to another
 * endpoint); only THEN the replay window (409 REPLAYED) — checked after authentication so that forged
 * packets cannot burn sequence numbers; owner-only routes (403 OWNER_ONLY) need a session keyed with the
 * owner key. A refused request changes nothing and the service keeps serving.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ChannelError, decodeEnvelope, encodeEnvelope, envelopeFromJson, envelopeToJson, fromB64u, openMessage, sealMessage, type Envelope,
} from '../wire/channel.js';
import { HttpError, mediaType, parseJsonBody, readBody, sendBinary, sendJson } from './http-util.js';
import type { InFlight } from './inflight.js';
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

/** Request header naming the channel session (base64url of its id), so that it is checked before the body is read. */
export const SESSION_HEADER = 'x-goten-session';
/** Body limit of an encrypted request that names no session in its headers. */
export const SESSIONLESS_BODY_LIMIT = 64 * 1024;

const unknownSession = () => new HttpError(401, 'UNKNOWN_SESSION', 'unknown or expired session: verify the attestation and open a new session');

/** The session id a request names in its headers (undefined: none); 400 when the header is malformed. */
function sessionHeader(req: IncomingMessage): Buffer | undefined {
  const v = req.headers[SESSION_HEADER];
  if (v === undefined) return undefined;
  try {
    return fromB64u(v, SESSION_HEADER);
  } catch (e) {
    throw new HttpError(400, 'MALFORMED', (e as Error).message);
  }
}

export async function serveEncrypted(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  r: EncryptedRoute,
  sessions: SessionTable,
  headers: Record<string, string>,
  inFlight: InFlight,
): Promise<void> {
  const type = mediaType(req);
  if (type !== 'application/octet-stream' && type !== 'application/json') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send an encrypted envelope as application/octet-stream (binary) or application/json');
  }
  // the session named in the headers is checked before any of the body is read; a request that names
  // none may send a small body only
  const claimed = sessionHeader(req);
  if (claimed && !sessions.get(claimed)) throw unknownSession();
  const limit = claimed ? r.limit : Math.min(r.limit, SESSIONLESS_BODY_LIMIT);
  const declared = Number(req.headers['content-length']);
  // held until the reply: the body and what the handler derives from it stay in memory until then
  const release = inFlight.reserve(Number.isSafeInteger(declared) && declared >= 0 && declared <= limit ? declared : limit);
  try {
    await serveBody({ req, res, route, r, sessions, headers }, type, claimed, limit);
  } finally {
    release();
  }
}

interface EncryptedCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: string;
  readonly r: EncryptedRoute;
  readonly sessions: SessionTable;
  readonly headers: Record<string, string>;
}

/** Reads, authenticates and answers the request once its session header and the in-flight bounds allowed it. */
async function serveBody(call: EncryptedCall, type: string, claimed: Buffer | undefined, limit: number): Promise<void> {
  const { req, res, route, r, sessions, headers } = call;
  let body: Buffer;
  try {
    body = await readBody(req, limit);
  } catch (e) {
    if (e instanceof HttpError && e.status === 413 && !claimed && limit < r.limit) {
      throw new HttpError(413, 'TOO_LARGE', `${e.message} (name your session in the ${SESSION_HEADER} header to send up to ${r.limit} bytes)`);
    }
    throw e;
  }
  let env: Envelope;
  try {
    env = type === 'application/json' ? envelopeFromJson(parseJsonBody(body)) : decodeEnvelope(body);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'MALFORMED', (e as Error).message);
  }
  if (claimed && !Buffer.from(claimed).equals(Buffer.from(env.sessionId))) {
    throw new HttpError(400, 'MALFORMED', `the ${SESSION_HEADER} header names another session than the envelope`);
  }
  const s = sessions.get(env.sessionId);
  if (!s) throw unknownSession();
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
