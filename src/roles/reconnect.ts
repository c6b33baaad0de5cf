/**
 * The enclave's wait for lost workers (protocol/recovery.ts): tries to open a new session with every
 * worker, again and again with back-off (0.5 s, 1 s, 2 s, 4 s, then every 5 s), until one succeeds or
 * the bounded total wait (`--reconnect-timeout`) is over. A restarted worker listens on its configured
 * address again; the surviving ones accept the new session once they have seen the old one end.
 * Progress lines name the lost worker and why; they never carry keys or tensor contents.
 */
import { WorkerLostError } from '../protocol/recovery.js';

/** How long a lost worker is waited for, unless told otherwise (--reconnect-timeout). */
export const DEFAULT_RECONNECT_TIMEOUT_MS = 120_000;
/** One try's own bound on reaching a party (a refused connection is retried within it). */
export const TRY_CONNECT_MS = 2_000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;

export interface ReconnectOptions {
  /** Total wait (ms); the error after it quotes the cause and the last try. */
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
  /** What the lines are about, instead of "<worker> lost (<why>)": e.g. "spare s0 in place of w0". */
  readonly subject?: string;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/**
 * Calls `open(connectBy, end)` until it resolves: `connectBy` (ms since the epoch) bounds one try's
 * connection attempts, `end` the whole wait (handshakes must not outlast it). Throws, after
 * `o.timeoutMs` in all, an error whose message starts with `cause`'s.
 */
export async function reconnecting<T>(open: (connectBy: number, end: number) => Promise<T>, cause: Error, where: string, o: ReconnectOptions): Promise<T> {
  const who = cause instanceof WorkerLostError ? cause.party : 'a worker';
  const why = cause instanceof WorkerLostError ? cause.reason : cause.message;
  const what = o.subject ?? `${who} lost (${why})`;
  const t0 = Date.now();
  const end = t0 + o.timeoutMs;
  o.log(`${what} at ${where}; opening a new session with every worker (waiting at most ${seconds(o.timeoutMs)})…`);
  for (let attempt = 1, delay = FIRST_DELAY_MS; ; attempt++, delay = Math.min(MAX_DELAY_MS, delay * 2)) {
    try {
      const r = await open(Math.min(end, Date.now() + TRY_CONNECT_MS), end);
      o.log(`reconnected after ${seconds(Date.now() - t0)} (attempt ${attempt}): a new session with fresh keys; retrying ${where}`);
      return r;
    } catch (err) {
      const left = end - Date.now();
      const msg = (err as Error).message;
      if (left <= 0) {
        if (o.subject) throw new Error(`${cause.message}; ${o.subject}: no new session within ${seconds(o.timeoutMs)} (--reconnect-timeout; last try: ${msg})`);
        throw new Error(`${cause.message}; ${who} did not come back within ${seconds(o.timeoutMs)} (--reconnect-timeout; last try: ${msg})`);
      }
      const wait = Math.min(delay, left);
      o.log(`${what}; reconnecting (attempt ${attempt} failed: ${msg}; next in ${seconds(wait)})…`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
