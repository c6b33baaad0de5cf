/**
 * Enclave side of the session idle timeout: a worker closes a session whose enclave has sent nothing
 * for a while (a stalled enclave must not hold the workers forever, roles/worker.ts), so the enclave
 * shows that it is alive on every worker connection it has not sent anything on for `intervalMs`.
 */
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';

/** How often an idle enclave connection carries a Keepalive frame. */
export const KEEPALIVE_INTERVAL_MS = 20_000;

/** Sends a Keepalive on each of `conns` that sent no frame in the last `intervalMs`; returns stop(). */
export function keepAlive(conns: readonly Connection[], intervalMs = KEEPALIVE_INTERVAL_MS): () => void {
  const sent = conns.map((c) => c.counters.sent.frames);
  const timer = setInterval(() => {
    conns.forEach((c, i) => {
      if (c.counters.sent.frames === sent[i] && !c.isClosed) {
        c.send({ type: MsgType.Keepalive, dtype: 'json', value: null }).catch(() => {}); // a closed connection ends the session elsewhere
      }
      sent[i] = c.counters.sent.frames;
    });
  }, intervalMs);
  timer.unref(); // never keeps a finished run alive
  return () => clearInterval(timer);
}
