/**
 * Recovery from a lost worker (docs/protocol.md, "Recovery"). When an attempt fails because a worker's
 * connection broke (closed, reset, an error frame, or no answer within the op timeout), the executor
 * abandons the whole session — every worker connection, none of them told goodbye, so long-running
 * workers wait for the next session — asks `Recovery.reopen` for a new one (a fresh AKE with every
 * worker and a new random master secret, hence new mask keys), and runs the same attempt again:
 *
 *   - the same attempt numbers and operand versions (the counters are rewound to their state before the
 *     failed attempt): under the new keys every mask is new, while the rounding noise (seed key, operand
 *     version) and so every quantized value, exponent and result is that of an uninterrupted run;
 *   - every operand version the old workers held is sent again (OperandTracker.resendAll).
 *
 * A result that fails verification naming exactly one worker is recovered only with a spare worker
 * (`replace`, docs/net.md "Spare workers"): a new session in which the spare plays the culprit's role,
 * the same rewind, the same attempt again; the culprit is never contacted again, and the step is
 * applied only once the re-run passes its check.
 *
 * Not recovered: a result that fails verification or is malformed with no spare left (a misbehaving
 * worker must not be asked again), an overflow (overflow.ts has its own retries), a replica divergence, and anything else
 * that is not a broken connection.
 */
import type { MaskSource } from './mask-source.js';
import type { MaskKeys } from './op-streams.js';
import type { Connection } from '../net/transport.js';

export { WorkerLostError, isConnectionLoss } from './worker-lost.js';

/** What one session gives the executor: keyed, greeted worker connections and their mask keys. */
export interface SessionParts {
  /** Workers 0, 1 and, online, 2. */
  readonly workers: readonly [Connection, Connection] | readonly [Connection, Connection, Connection];
  readonly keys: MaskKeys;
  /** Offline mode: a mask source for these keys (online: the executor builds one over workers[2]). */
  readonly maskSource?: MaskSource;
}

export interface Recovery {
  /**
   * A new session with every worker after `cause` (the old one is already torn down): waits, with
   * back-off, at most its bounded time, then throws an error that says so and quotes `cause`.
   */
  reopen(cause: Error, where: string): Promise<SessionParts>;
  /** Whether an unused spare worker is left (replace would be tried). */
  canReplace?(): boolean;
  /**
   * A new session in which an unused spare plays `role` ('w0', 'w1' or 'w2') in place of the worker
   * whose result failed verification (`cause`); throws (quoting `cause`) when it cannot.
   */
  replace?(cause: Error, role: string, where: string): Promise<SessionParts>;
  /**
   * Why this run cannot recover from `cause` at all (the replicated topology: both replicas would have
   * to agree on a new session), as the error the op fails with; null when reopen/replace may be tried.
   * Asked before anything is torn down, so a refusal leaves the session's other connections as they are.
   */
  refuse?(cause: Error, replacing: boolean): Error | null;
  /** New sessions for one op before giving up (a worker that dies at every attempt). Default 5. */
  readonly maxPerOp?: number;
}

export const DEFAULT_RECOVERIES_PER_OP = 5;
