/**
 * What a metrics log records of a secure run: the frame bytes on each worker connection (the
 * connections' own counters, src/net/counters.ts), each worker's busy time (asked with the workers'
 * `stats` control request, as `goten bench step` does) and this process's CPU time. Only called between
 * steps, when no op is in flight: a connection carries one exchange at a time.
 */
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';
import type { LinearExecutor } from '../nn/executor.js';
import type { SecureStats } from './metrics.js';

export interface Snapshot {
  workers: { party: string; sent: number; received: number; busyMs?: number }[];
  cpuMs: number;
  wallMs: number;
}

/** Control request ids far above the protocol's op sequence numbers. */
let nextRequest = 0x7e000000;

async function workerBusyMs(c: Connection): Promise<number | undefined> {
  const opId = nextRequest++ >>> 0;
  await c.send({ type: MsgType.Control, opId, dtype: 'json', value: { kind: 'stats' } });
  const msg = await c.expect(MsgType.Control, { opId, timeoutMs: 30_000 });
  const v = (msg.dtype === 'json' ? msg.value : null) as { busyMs?: unknown } | null;
  msg.release();
  return typeof v?.busyMs === 'number' ? v.busyMs : undefined;
}

export class SecureProbe {
  private constructor(
    private readonly conns: readonly Connection[],
    /** Ask the workers for their busy time (only where this enclave feeds every worker: single topology). */
    private readonly askWorkers: boolean,
  ) {}

  /** A probe for a secure executor; null for the other modes. */
  static of(executor: LinearExecutor, askWorkers: boolean): SecureProbe | null {
    return executor.mode === 'secure' && executor.connections.length > 0 ? new SecureProbe(executor.connections, askWorkers) : null;
  }

  /** Counters now (asks the workers: between steps only). */
  async snapshot(): Promise<Snapshot> {
    const workers = [];
    for (const [i, c] of this.conns.entries()) {
      workers.push({ party: `w${i}`, sent: c.counters.sent.bytes, received: c.counters.received.bytes, busyMs: this.askWorkers ? await workerBusyMs(c) : undefined });
    }
    const cpu = process.cpuUsage();
    return { workers, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() };
  }
}

/** What happened between two snapshots. */
export function secureDelta(prev: Snapshot, now: Snapshot): SecureStats {
  return {
    workers: now.workers.map((w, i) => {
      const p = prev.workers[i];
      const busy = w.busyMs !== undefined && p.busyMs !== undefined ? { busyMs: w.busyMs - p.busyMs } : {};
      return { party: w.party, sentBytes: w.sent - p.sent, receivedBytes: w.received - p.received, ...busy };
    }),
    enclaveCpuMs: now.cpuMs - prev.cpuMs,
    wallMs: now.wallMs - prev.wallMs,
  };
}
