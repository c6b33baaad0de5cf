/** In-process workers w0, w1, w2 (runWorker, js backend) on a fresh loopback cluster, for the worker fault tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../../src/backend/index.js';
import { writeLocalCluster } from '../../src/net/cluster.js';
import { type ClusterConfig, loadClusterConfig, loadLocalIdentity } from '../../src/net/cluster-config.js';
import type { Listener } from '../../src/net/transport.js';
import { freePort } from '../../src/roles/launcher.js';
import { openEnclaveSession, type EnclaveSessionOptions } from '../../src/roles/session.js';
import { type WorkerRoleOptions, runWorker } from '../../src/roles/worker.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';

export interface Rig {
  readonly config: ClusterConfig;
  readonly logs: string[];
  readonly listeners: Listener[];
  /** An enclave session as e0 over this cluster. */
  enclave(o?: Partial<EnclaveSessionOptions>): ReturnType<typeof openEnclaveSession>;
  stop(): Promise<void>;
}

export async function startWorkers(transport: 'tcp' | 'tls', o: Partial<WorkerRoleOptions> = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'goten-worker-rig-'));
  const ports = [];
  for (let i = 0; i < 4; i++) ports.push(await freePort());
  const config = loadClusterConfig(writeLocalCluster(dir, { transport, ports }));
  const logs: string[] = [];
  const listeners: Listener[] = [];
  const ready: Promise<void>[] = [];
  const runs: Promise<void>[] = [];
  for (const party of [0, 1, 2] as const) {
    ready.push(
      new Promise((resolve) => {
        runs.push(
          runWorker({
            config,
            party,
            identity: loadLocalIdentity(config, `w${party}`),
            backend: getBackend('js'),
            log: (l) => logs.push(l),
            onListening: (l) => (listeners.push(l), resolve()),
            ...o,
          }).catch(() => {}), // ends when its listener is closed
        );
      }),
    );
  }
  await Promise.all(ready);
  return {
    config,
    logs,
    listeners,
    enclave: (e = {}) =>
      openEnclaveSession({ config, self: 'e0', identity: loadLocalIdentity(config, 'e0'), noiseKey: noiseKeyFromSeed(5), connectTimeoutMs: 5000, ...e }),
    async stop() {
      await Promise.all(listeners.map((l) => l.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
