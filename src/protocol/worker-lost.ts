/**
 * The error of a worker whose result never came (recovery.ts): its connection closed or broke, it sent
 * an error frame, or it stayed silent past the op timeout. A wrong or malformed result is a plain
 * ProtocolError (or a VerificationError): those are never retried with the same workers.
 */
import { ConnectionClosedError, PeerError, TimeoutError, type Connection } from '../net/transport.js';
import { ProtocolError } from './messages.js';

/** A worker's result did not arrive: its connection broke or it stayed silent past the op timeout. */
export class WorkerLostError extends ProtocolError {
  override name = 'WorkerLostError';
  constructor(
    message: string,
    /** The party whose connection failed (e.g. 'w1'). */
    readonly party: string,
    /** Why, in a few words (the transport's message). */
    readonly reason: string,
    /** It said nothing within the op timeout (stalled or hung), rather than closing its connection. */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** Whether `err` is a broken connection (recoverable with a new session), not a wrong or malformed answer. */
export function isConnectionLoss(err: unknown): boolean {
  return err instanceof WorkerLostError || err instanceof ConnectionClosedError || err instanceof TimeoutError || err instanceof PeerError;
}

/** The failed expect of a worker's result as the error the executor recovers from (message unchanged). */
export function lostResult(conn: Connection, who: string, opId: number, err: unknown): Error {
  const reason = (err as Error).message;
  const message = `${who} (${conn.peer}) failed during op ${opId}: ${reason}`;
  const lost = err instanceof ConnectionClosedError || err instanceof TimeoutError || err instanceof PeerError;
  return lost ? new WorkerLostError(message, conn.peer, reason, err instanceof TimeoutError) : new ProtocolError(message);
}

