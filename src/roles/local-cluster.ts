/**
 * An in-process cluster: three WorkerServices (two in offline mode) and one or
 * two enclave-side SecureExecutors joined by a Transport (in-process by default). Used by the
 * protocol tests (bit-identity, privacy, traffic) and by benchmarks that want
 * the protocol's cost without process boundaries. The multi-process roles
 * (roles/enclave.ts, roles/worker.ts) set up the same objects over sockets.
 */
import type { Backend } from '../backend/backend.js';
import { inprocTransport } from '../net/inproc.js';
import type { Connection, Transport } from '../net/transport.js';
import { deriveStreamKeys, generateMasterSecret, seedBundleFor } from '../protocol/key-schedule.js';
import { sayBye } from '../protocol/messages.js';
import { feedsFor } from '../protocol/feeds.js';
import { SecureExecutor } from '../protocol/secure-executor.js';
import { type KernelChoice, enclaveKernels } from '../protocol/enclave-kernels.js';
import { OfflineMaskSource } from '../protocol/offline-masks.js';
import { DEFAULT_PROTOCOL, type ProtocolName } from '../protocol/variant.js';
import { ProductVerifier, type VerifyMode } from '../protocol/product-verifier.js';
import type { Recovery } from '../protocol/recovery.js';
import type { LeanLinks } from './lean-worker-op.js';
import { type WorkerKeys, type WorkerParty, WorkerService } from './worker-service.js';

export type Topology = 'single' | 'replicated';


export interface LocalClusterOptions {
  /** Default lean. */
  readonly protocol?: ProtocolName;
  readonly backend: Backend;
  readonly topology: Topology;
  readonly noiseKey: Uint8Array;
  /** Enclave master secret (random by default). */
  readonly master?: Uint8Array;
  readonly transport?: Transport;
  /** Per-worker backends (default: `backend`). */
  readonly workerBackends?: readonly [Backend, Backend, Backend];
  /** 3: online (worker 2 computes Z'); 2: offline (each enclave precomputes Z̃, no worker 2). Default 3. */
  readonly workers?: 2 | 3;
  /** Offline mode: bytes of automatic offline phases per enclave (0: only explicit ones). */
  readonly offlineBudgetBytes?: number;
  /** Enclave kernels (default auto). */
  readonly kernels?: KernelChoice;
  /** Verified products in every enclave (default off). */
  readonly verify?: VerifyMode;
  /** Testing: per-worker result hooks (fault-injection.ts). */
  readonly workerFaults?: readonly (((out: Int32Array) => void) | undefined)[];
  /** What the executors do after a lost worker (protocol/recovery.ts; default: the op fails). */
  readonly recovery?: Recovery;
  /** Ops smaller than this (√(a·b·c)) are computed in the enclaves (protocol/local-attempt.ts); default 0, none. */
  readonly localBelow?: number;
}

export interface LocalCluster {
  /** One executor (single) or two replicas (replicated). */
  readonly executors: SecureExecutor[];
  readonly workers: WorkerService[];
  /** Every enclave-side connection, per executor: [w0, w1, w2]. */
  readonly connections: Connection[][];
  /** Lean: each worker's links to the others (both ends), per worker. */
  readonly links: LeanLinks[];
  close(): Promise<void>;
}

/** Lean links w0 ↔ w1 and (online) w2 → w1, each end as the worker holding it sees it. */
async function connectLinks(transport: Transport, nWorkers: number): Promise<LeanLinks[]> {
  const hub = await transport.listen({ host: '127.0.0.1', port: 0 });
  try {
    const link = async (from: string) => {
      const out = await transport.connect({ host: hub.host, port: hub.port, peer: 'w1' });
      const inn = await hub.accept();
      return [out, inn, from] as const;
    };
    const [w0out, w0in] = await link('w0');
    const w2 = nWorkers === 3 ? await link('w2') : null;
    return [{ w1: w0out }, { w0: w0in, w2: w2?.[1] }, { w1: w2?.[0] }];
  } finally {
    await hub.close();
  }
}

export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const transport = o.transport ?? inprocTransport('copy');
  const protocol = o.protocol ?? DEFAULT_PROTOCOL;
  const keys = deriveStreamKeys(o.master ?? generateMasterSecret());
  const nEnclaves = o.topology === 'single' ? 1 : 2;
  const workers: WorkerService[] = [];
  const serving: Promise<unknown>[] = [];
  const nWorkers = o.workers ?? 3;
  const listeners = await Promise.all([0, 1, 2].slice(0, nWorkers).map(() => transport.listen({ host: '127.0.0.1', port: 0 })));
  const enclaveFeeds = (o.topology === 'single' ? (['e0'] as const) : (['e0', 'e1'] as const)).map((e) => feedsFor(protocol, o.topology, e));
  const connections: Connection[][] = [];
  for (let e = 0; e < nEnclaves; e++) {
    const row: Connection[] = [];
    for (let w = 0; w < nWorkers; w++) {
      row.push(await transport.connect({ host: listeners[w].host, port: listeners[w].port, peer: `w${w}` }));
    }
    connections.push(row);
  }
  const links = protocol === 'lean' ? await connectLinks(transport, nWorkers) : [];
  for (let w = 0; w < nWorkers; w++) {
    const party = w as WorkerParty;
    const svc = new WorkerService(party, o.workerBackends?.[w] ?? o.backend, seedBundleFor(party, keys, protocol).keys as WorkerKeys, {
      protocol,
      links: links[w],
      kernels: enclaveKernels(o.kernels),
      fault: o.workerFaults?.[w],
    });
    workers.push(svc);
    for (let e = 0; e < nEnclaves; e++) {
      const conn = await listeners[w].accept();
      svc.addSubscriber(conn);
      const feeds = enclaveFeeds[e];
      if ((w === 0 && feeds.w0) || (w === 1 && feeds.w1) || (w === 2 && feeds.w2)) serving.push(svc.serveFeeder(conn));
      else void svc.serveSubscriber(conn);
    }
    // lean: worker 1 takes its requests from worker 0's link
    if (protocol === 'lean' && w === 1) serving.push(svc.serveFeeder(links[1].w0!));
  }
  await Promise.all(listeners.map((l) => l.close()));
  let replicaLinks: [Connection, Connection] | null = null;
  if (nEnclaves === 2) {
    const l = await transport.listen({ host: '127.0.0.1', port: 0 });
    const c0 = await transport.connect({ host: l.host, port: l.port, peer: 'e1' });
    const c1 = await l.accept();
    await l.close();
    replicaLinks = [c0, c1];
  }
  const executors = connections.map((row, e) => {
    // one kernel set per enclave, shared by its executor and its offline mask source
    const kernels = enclaveKernels(o.kernels);
    return new SecureExecutor({
      protocol,
      workers: nWorkers === 3 ? [row[0], row[1], row[2]] : [row[0], row[1]],
      maskSource: nWorkers === 2 ? new OfflineMaskSource({ protocol, keys, backend: o.backend, kernels, budgetBytes: o.offlineBudgetBytes }) : undefined,
      kernels,
      feeds: enclaveFeeds[e],
      keys,
      noiseKey: o.noiseKey,
      replica: replicaLinks?.[e],
      timeoutMs: 120_000,
      verifier: o.verify && o.verify !== 'off' ? new ProductVerifier(o.backend, o.verify) : undefined,
      recovery: o.recovery,
      localBelow: o.localBelow,
      backend: o.backend,
    });
  });
  return {
    executors,
    workers,
    connections,
    links,
    async close() {
      for (const row of connections) {
        for (const c of row) await sayBye(c);
      }
      await Promise.allSettled(executors.map((x) => x.close()));
      await Promise.allSettled(serving);
      await Promise.allSettled(links.flatMap((l) => [l.w0, l.w1, l.w2].map((c) => c?.close())));
    },
  };
}
