/**
 * The enclave's table of client sessions (keys from POST /session, channel.ts) with expiry, a size cap and
 * a per-session replay window.
 *
 * Why each check: sessions expire (`ttlMs` after their last use) so that keys do not live forever in the
 * enclave; the table is capped so that a flood of POST /session cannot exhaust enclave memory (expired
 * sessions are evicted first, then the least recently used one); the replay window accepts every request
 * sequence number at most once, so a recorded request cannot be re-submitted (it would run the query or the
 * upload step again). Sequence numbers may arrive slightly out of order (concurrent requests): the window
 * remembers the last WINDOW numbers below the highest one seen and refuses anything older.
 */
import type { SessionKeys } from '../wire/channel.js';

export const REPLAY_WINDOW = 1024n;

/** Sliding replay window over u64 sequence numbers (highest seen + a bitmap of the WINDOW below it). */
export class ReplayWindow {
  private max = -1n;
  private bits = 0n;

  /** true if `seq` was never accepted and is not too old; records it. Call only after authentication. */
  accept(seq: bigint): boolean {
    if (seq > this.max) {
      const shift = this.max < 0n ? REPLAY_WINDOW : seq - this.max;
      this.bits = shift >= REPLAY_WINDOW ? 0n : (this.bits << shift) & ((1n << REPLAY_WINDOW) - 1n);
      this.bits |= 1n;
      this.max = seq;
      return true;
    }
    const back = this.max - seq;
    if (back >= REPLAY_WINDOW) return false;
    const bit = 1n << back;
    if (this.bits & bit) return false;
    this.bits |= bit;
    return true;
  }
}

export interface Session {
  readonly id: string;
  readonly keys: SessionKeys;
  /** true when the session was keyed with the configured owner key (channel.ts: X25519(O, eS)) */
  readonly owner: boolean;
  readonly replay: ReplayWindow;
  lastUsed: number;
}

export class SessionTable {
  private readonly map = new Map<string, Session>();

  constructor(
    readonly maxSessions = 1024,
    readonly ttlMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(keys: SessionKeys, owner: boolean): Session {
    this.evict();
    const s: Session = { id: Buffer.from(keys.sessionId).toString('hex'), keys, owner, replay: new ReplayWindow(), lastUsed: this.now() };
    this.map.set(s.id, s);
    return s;
  }

  /** The live session with this id, or undefined (unknown or expired — an expired one is erased). */
  get(sid: Uint8Array): Session | undefined {
    const id = Buffer.from(sid).toString('hex');
    const s = this.map.get(id);
    if (!s) return undefined;
    if (this.now() - s.lastUsed > this.ttlMs) {
      this.erase(s);
      return undefined;
    }
    s.lastUsed = this.now();
    // keep map order = recency, so eviction takes the least recently used first
    this.map.delete(id);
    this.map.set(id, s);
    return s;
  }

  get size(): number {
    return this.map.size;
  }

  private erase(s: Session): void {
    s.keys.c2s.fill(0);
    s.keys.s2c.fill(0);
    this.map.delete(s.id);
  }

  private evict(): void {
    const t = this.now();
    for (const s of this.map.values()) if (t - s.lastUsed > this.ttlMs) this.erase(s);
    while (this.map.size >= this.maxSessions) {
      const oldest = this.map.values().next().value as Session;
      this.erase(oldest);
    }
  }

  clear(): void {
    for (const s of [...this.map.values()]) this.erase(s);
  }
}
