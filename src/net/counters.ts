/**
 * Traffic counters, one set per connection (= per peer), broken down by message
 * type name and by op label.
 *
 * BYTES are frame bytes: header + payload exactly as the frame codec puts them on
 * the socket (src/net/frame.ts). Below the framing layer, TCP/IP headers and TLS
 * record overhead (~22 bytes per ≤16 KiB record) are not counted. The in-process
 * transport counts the same frame bytes it would have written.
 * Sent bytes are counted when send() hands the frame to the socket; received
 * bytes when a complete frame has been decoded.
 *
 * ROUNDS count send→receive turnarounds seen from THIS endpoint: a round is
 * counted when a frame is received and the previous frame event on the
 * connection was a send. So a client that does N sequential request/response
 * exchanges counts N rounds, whatever the number of frames per request or
 * response (a burst of frames in one direction is one half-round); the serving
 * side counts N − 1 (its first event is a receive). Per op label the same rule
 * is applied to the frames carrying that label only, so a label's rounds are the
 * number of sequential latencies that op paid on this connection. Frames with
 * the empty label count in the totals and under the label "". A per-type entry's
 * `rounds` counts the label rounds closed by a received frame of that type.
 */
import { messageTypeName } from './message-types.js';

export interface DirectionStats {
  frames: number;
  bytes: number;
}

export interface TrafficStats {
  sent: DirectionStats;
  received: DirectionStats;
  rounds: number;
}

/** A plain-JSON copy of a connection's counters. */
export interface TrafficSnapshot extends TrafficStats {
  peer: string;
  byType: Record<string, TrafficStats>;
  byLabel: Record<string, TrafficStats>;
}

function emptyStats(): TrafficStats {
  return { sent: { frames: 0, bytes: 0 }, received: { frames: 0, bytes: 0 }, rounds: 0 };
}

function copyStats(s: TrafficStats): TrafficStats {
  return { sent: { ...s.sent }, received: { ...s.received }, rounds: s.rounds };
}

function addInto(dst: TrafficStats, src: TrafficStats): void {
  dst.sent.frames += src.sent.frames;
  dst.sent.bytes += src.sent.bytes;
  dst.received.frames += src.received.frames;
  dst.received.bytes += src.received.bytes;
  dst.rounds += src.rounds;
}

export class TrafficCounters implements TrafficStats {
  sent: DirectionStats = { frames: 0, bytes: 0 };
  received: DirectionStats = { frames: 0, bytes: 0 };
  rounds = 0;
  private lastWasSend = false;
  private readonly types = new Map<string, TrafficStats>();
  private readonly labels = new Map<string, TrafficStats & { lastWasSend: boolean }>();

  constructor(public peer = '') {}

  private label(label: string): TrafficStats & { lastWasSend: boolean } {
    let s = this.labels.get(label);
    if (!s) this.labels.set(label, (s = { ...emptyStats(), lastWasSend: false }));
    return s;
  }

  private type(type: number): TrafficStats {
    const name = messageTypeName(type);
    let s = this.types.get(name);
    if (!s) this.types.set(name, (s = emptyStats()));
    return s;
  }

  /** Record one sent frame. */
  countSent(type: number, label: string, frameBytes: number): void {
    this.sent.frames++;
    this.sent.bytes += frameBytes;
    this.lastWasSend = true;
    const t = this.type(type);
    t.sent.frames++;
    t.sent.bytes += frameBytes;
    const l = this.label(label);
    l.sent.frames++;
    l.sent.bytes += frameBytes;
    l.lastWasSend = true;
  }

  /** Record one received frame (and a round if the previous event was a send). */
  countReceived(type: number, label: string, frameBytes: number): void {
    this.received.frames++;
    this.received.bytes += frameBytes;
    if (this.lastWasSend) this.rounds++;
    this.lastWasSend = false;
    const t = this.type(type);
    t.received.frames++;
    t.received.bytes += frameBytes;
    const l = this.label(label);
    l.received.frames++;
    l.received.bytes += frameBytes;
    if (l.lastWasSend) {
      l.rounds++;
      t.rounds++;
    }
    l.lastWasSend = false;
  }

  snapshot(): TrafficSnapshot {
    const byType: Record<string, TrafficStats> = {};
    for (const [k, v] of this.types) byType[k] = copyStats(v);
    const byLabel: Record<string, TrafficStats> = {};
    for (const [k, v] of this.labels) byLabel[k] = copyStats(v);
    return { peer: this.peer, ...copyStats(this), byType, byLabel };
  }

  reset(): void {
    this.sent = { frames: 0, bytes: 0 };
    this.received = { frames: 0, bytes: 0 };
    this.rounds = 0;
    this.lastWasSend = false;
    this.types.clear();
    this.labels.clear();
  }
}

/**
 * Sum snapshots (e.g. all of an enclave's connections) into one; `peer` becomes
 * the given name. Per-type rounds are attributed to the type of the received
 * frame that closed the round.
 */
export function mergeSnapshots(snaps: readonly TrafficSnapshot[], peer = '*'): TrafficSnapshot {
  const out: TrafficSnapshot = { peer, ...emptyStats(), byType: {}, byLabel: {} };
  for (const s of snaps) {
    addInto(out, s);
    for (const [k, v] of Object.entries(s.byType)) addInto((out.byType[k] ??= emptyStats()), v);
    for (const [k, v] of Object.entries(s.byLabel)) addInto((out.byLabel[k] ??= emptyStats()), v);
  }
  return out;
}
