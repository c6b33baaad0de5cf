/**
 * Bounds on the encrypted requests the service reads at once: how many, and how many body bytes they
 * may hold together (each reserves its Content-Length, or its route's limit when it declares none,
 * before a byte is read). Without them, parallel large bodies took the service from 220 MB to 1 GB
 * and stalled real users (issue 11); a request over a bound gets 503 BUSY at once, its body unread.
 */
import { HttpError } from './http-util.js';

export interface InFlightLimits {
  /** Encrypted requests being read or served at once (default 32). */
  readonly maxRequests?: number;
  /** Body bytes reserved by those requests together (default 256 MiB). */
  readonly maxBytes?: number;
}

export class InFlight {
  #requests = 0;
  #bytes = 0;
  readonly maxRequests: number;
  readonly maxBytes: number;

  constructor(l: InFlightLimits = {}) {
    this.maxRequests = l.maxRequests ?? 32;
    this.maxBytes = l.maxBytes ?? 256 << 20;
  }

  /** Reserves one request of up to `bytes`; returns its release, or throws 503 BUSY. */
  reserve(bytes: number): () => void {
    if (this.#requests >= this.maxRequests || this.#bytes + bytes > this.maxBytes) {
      throw new HttpError(503, 'BUSY', `the service is reading ${this.#requests} requests (${this.#bytes} bytes) already; retry shortly`);
    }
    this.#requests++;
    this.#bytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#requests--;
      this.#bytes -= bytes;
    };
  }
}
