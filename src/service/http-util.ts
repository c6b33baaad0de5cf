/**
 * Small node:http helpers for the enclave service: bounded body reading, JSON/binary replies, and the
 * HttpError that every handler throws for a clear 4xx. Every body is read with a hard byte limit (checked
 * against Content-Length first, then while streaming) so that an untrusted client cannot make the enclave
 * buffer more than the limit; error replies are plaintext JSON {"error": {"code", "message"}} and never
 * contain request data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new HttpError(413, 'TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit} for ${req.url ?? ''}`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of req) {
      n += (chunk as Buffer).length;
      if (n > limit) throw new HttpError(413, 'TOO_LARGE', `request body exceeds the limit of ${limit} bytes`);
      parts.push(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'ABORTED', 'the request body was not received completely');
  }
  return Buffer.concat(parts, n);
}

export function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'request body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export function sendBinary(res: ServerResponse, status: number, body: Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, e: HttpError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // after a refused oversized body, an unknown session or a busy service (routes.ts) the rest of the body is
  // not read: close the connection instead of draining it
  const unread = e.status === 413 || e.status === 401 || e.status === 503;
  sendJson(res, e.status, { error: { code: e.code, message: e.message } }, unread ? { ...headers, connection: 'close' } : headers);
}
