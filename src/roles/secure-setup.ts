/**
 * Builds the secure executor for `goten train --mode secure` and `goten demo`:
 * either joins an existing cluster (`--cluster file --party e0|e1`), or starts
 * a local one whose parties are separate processes (roles/launcher.ts).
 */
import type { LinearExecutor } from '../nn/executor.js';
import { loadClusterConfig, loadLocalIdentity } from '../net/cluster-config.js';
import { getBackend, isBackendName } from '../backend/index.js';
import { noiseKeyFromSeed } from '../protocol/op-quantize.js';
import { FileBacking } from '../tee/chunk-store.js';
import type { SecureExecutor } from '../protocol/secure-executor.js';
import { type LaunchedCluster, launchLocalCluster, waitAtMost } from './launcher.js';
import { openEnclaveSession } from './session.js';
import type { ProtocolName } from '../protocol/variant.js';
import type { VerifyMode } from '../protocol/product-verifier.js';

export interface SecureSetupOptions {
  readonly seed: number;
  readonly topology: 'single' | 'replicated';
  /** The lean protocol (default) or the paper's. */
  readonly protocol?: ProtocolName;
  /** Existing cluster config; without it a local cluster is launched. */
  readonly cluster?: string;
  /** This enclave's party name in the cluster (default e0). */
  readonly party?: 'e0' | 'e1';
  /** Worker backend for a launched cluster. */
  readonly backend?: string;
  readonly transport?: 'tls' | 'tcp';
  /** The replica's command line (launched replicated clusters): this command's args. */
  readonly replicaArgs?: readonly string[];
  readonly log?: (line: string) => void;
  /** 3 (online) or 2 (offline mode: the enclave precomputes the mask products; no worker 2). Default 3. */
  readonly workers?: 2 | 3;
  /** Verified products (default off). */
  readonly verify?: VerifyMode;
  /** Offline mode: keep the sealed mask products in files under this directory (default: host memory). */
  readonly offlineDir?: string;
  /** Launched cluster: where the children's diagnostic lines go (default: inherited stderr). */
  readonly workerStderr?: 'inherit' | 'ignore';
  /** Launched cluster: run the worker processes on these CPUs only (a `taskset -c` list). */
  readonly workerCpus?: string;
  /** How long to wait for a worker's answer to one op (ms; default roles/session.ts). */
  readonly opTimeoutMs?: number;
  /** How long to wait for a lost worker to come back (ms; default roles/reconnect.ts; 0: no recovery). */
  readonly reconnectTimeoutMs?: number;
  /** Ops smaller than this (√(a·b·c)) are computed in the enclave (protocol/local-attempt.ts); default 0, none. */
  readonly localBelow?: number;
}

/** A SecureExecutor whose close() also stops the processes it launched. */
export async function createSecureExecutor(o: SecureSetupOptions): Promise<LinearExecutor> {
  let launched: LaunchedCluster | null = null;
  let configPath = o.cluster;
  if (!configPath) {
    launched = await launchLocalCluster({
      topology: o.topology,
      transport: o.transport,
      backend: o.backend,
      replicaArgs: o.replicaArgs,
      workers: o.workers,
      stderr: o.workerStderr,
      workerCpus: o.workerCpus,
      log: o.log,
    });
    configPath = launched.configPath;
    o.log?.(`started a local ${o.topology} cluster: ${launched.children.length} worker/replica processes (${o.transport ?? 'tls'})`);
  }
  try {
    const config = loadClusterConfig(configPath);
    if (config.topology && config.topology !== o.topology && o.cluster) {
      throw new Error(`--topology ${o.topology} does not match the cluster config's topology ${config.topology}`);
    }
    const self = o.party ?? 'e0';
    const identity = loadLocalIdentity(config, self);
    const exec = await openEnclaveSession({
      protocol: o.protocol,
      config,
      self,
      identity,
      noiseKey: noiseKeyFromSeed(o.seed),
      workers: o.workers,
      verify: o.verify,
      offlineBacking: o.offlineDir ? new FileBacking(o.offlineDir) : undefined,
      enclaveBackend: o.backend && isBackendName(o.backend) ? getBackend(o.backend) : undefined,
      opTimeoutMs: o.opTimeoutMs,
      reconnectTimeoutMs: o.reconnectTimeoutMs,
      localBelow: o.localBelow,
      log: o.log,
      onWorkerLost: launched ? (party, timedOut) => launched!.lost(party, timedOut) : undefined,
    });
    return withCleanup(exec, launched, o.log);
  } catch (err) {
    await launched?.stop();
    throw err;
  }
}

export function withCleanup(exec: SecureExecutor, launched: LaunchedCluster | null, log?: (line: string) => void): LinearExecutor {
  const close = exec.close.bind(exec);
  exec.close = async () => {
    const m = exec.maskStats();
    if (m.mode === 'offline') {
      log?.(
        `offline mode: ${m.precomputed} mask products precomputed in offline phases (${(m.offlineMs / 1000).toFixed(1)} s), ` +
          `${m.served} used, ${m.onDemand} computed on demand in the online phase (${(m.onDemandMs / 1000).toFixed(1)} s)`,
      );
    }
    await close();
    if (launched) {
      // workers exit by themselves after the session (--once), within moments; a stalled one never
      // does, and every second waited here delays the run's error message
      await waitAtMost(launched.exited, 5_000);
      await launched.stop();
    }
  };
  return exec;
}
