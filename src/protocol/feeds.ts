/**
 * Which worker requests an enclave builds and sends, by protocol and topology (docs/protocol.md,
 * replicated topology). One enclave feeds every worker it needs; of two replicas, each feeds its own
 * share of them, so no worker hears both.
 */
import type { ProtocolName } from './variant.js';

/** Which worker requests this enclave builds. */
export interface Feeds {
  readonly w0: boolean;
  readonly w1: boolean;
  readonly w2: boolean;
}

export const FEEDS_SINGLE: Feeds = { w0: true, w1: true, w2: true };
export const FEEDS_REPLICA0: Feeds = { w0: true, w1: false, w2: true };
export const FEEDS_REPLICA1: Feeds = { w0: false, w1: true, w2: false };
const FEEDS_NONE: Feeds = { w0: false, w1: false, w2: false };

/**
 * Which workers an enclave sends requests to. goten: one enclave feeds all three, or e0 feeds w0 and w2 and
 * e1 feeds w1. lean: worker 0 relays every request to worker 1, so (e0) feeds only w0 and w2; a replica e1
 * sends nothing (it quantizes for the digest and receives the results).
 */
export function feedsFor(protocol: ProtocolName, topology: 'single' | 'replicated', self: 'e0' | 'e1'): Feeds {
  if (protocol === 'lean') return self === 'e0' ? FEEDS_REPLICA0 : FEEDS_NONE;
  return topology === 'single' ? FEEDS_SINGLE : self === 'e0' ? FEEDS_REPLICA0 : FEEDS_REPLICA1;
}
