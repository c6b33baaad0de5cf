/**
 * `goten worker --config <cluster.json> --party 0|1|2|w0|w1|w2|s<n> [--backend …] [--once]`:
 * runs an untrusted worker (see roles/worker.ts), or a spare (s0, s1, … from the config's "spares")
 * that plays whichever worker role the enclave gives it. Worker processes never see
 * plaintext, labels or losses; they log only counts and timings.
 */
import { faultInjector, parseFault } from '../../roles/fault-injection.js';
import type { Command } from 'commander';
import { type Backend, type BackendName, NATIVE_WORKSPACE_ENV, createNativeBackend, getBackend, isBackendName, nativeAvailability } from '../../backend/index.js';
import { type SpareName, isSpareName, loadClusterConfig, loadLocalIdentity } from '../../net/cluster-config.js';
import { runWorker, workerName } from '../../roles/worker.js';
import type { WorkerParty } from '../../roles/worker-service.js';

/**
 * A worker has no enclave memory budget: unless GOTEN_NATIVE_WORKSPACE_MIB says otherwise, its native backend
 * runs without a workspace limit (the 16 MiB default costs up to ~17 % on large mod-P GEMMs at 2 threads;
 * docs/benchmarks.md).
 */
function workerBackend(name: BackendName): Backend {
  const unlimited = name !== 'js' && process.env[NATIVE_WORKSPACE_ENV] === undefined && nativeAvailability().available;
  return unlimited ? createNativeBackend({ workspaceBytes: Infinity }) : getBackend(name);
}

export function parseWorkerParty(s: string): WorkerParty | SpareName {
  const t = s.trim();
  if (isSpareName(t)) return t;
  const m = /^w?([012])$/.exec(t);
  if (!m) throw new Error(`--party must be 0, 1, 2 (or w0, w1, w2), or a spare s0, s1, …, got '${s}'`);
  return Number(m[1]) as WorkerParty;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run an untrusted worker (party 0, 1 or 2) or a spare worker (s0, …) of a Goten cluster')
    .requiredOption('--config <file>', 'cluster config (see `goten keygen`)')
    .requiredOption('--party <n>', 'worker index: 0, 1 or 2 (or w0, w1, w2); or a spare listed under "spares" in the config (s0, s1, …), which waits to take the role of a worker whose result fails verification or that does not come back (docs/net.md)')
    .option('--key <file>', 'private key file (default: the config entry keyFile)')
    .option('--backend <name>', 'kernel backend: js, native or auto', 'auto')
    .option('--once', "exit after a session that ends with the enclave's goodbye (after one the enclave abandoned, e.g. to recover from another worker's loss, wait up to 5 min for the next)", false)
    .option('--quiet', 'no progress lines on stderr', false)
    .option('--inject-fault <spec>', 'TESTING ONLY: at this worker\'s op number <op>, corrupt:<op> adds 1 to one element of its result (shows --verify), stall:<op> stops the process (SIGSTOP), crash:<op> kills it (SIGKILL)')
    .action(async (opts: { config: string; party: string; key?: string; backend: string; once: boolean; quiet: boolean; injectFault?: string }) => {
      const party = parseWorkerParty(opts.party);
      if (!isBackendName(opts.backend)) throw new Error(`unknown backend '${opts.backend}' (expected js, native or auto)`);
      const config = loadClusterConfig(opts.config);
      const identity = loadLocalIdentity(config, workerName(party), opts.key);
      const log = opts.quiet ? undefined : (line: string) => process.stderr.write(`[goten worker] ${line}\n`);
      // loud even with --quiet: a worker that lies on purpose must say so
      const fault = opts.injectFault === undefined ? undefined : faultInjector(parseFault(opts.injectFault), party, (l) => process.stderr.write(`[goten worker] ${l}\n`));
      await runWorker({ config, party, identity, backend: workerBackend(opts.backend), once: opts.once, log, fault });
    });
}
