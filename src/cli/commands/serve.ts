/**
 * `goten serve`: the enclave service (src/service/server.ts; protocol in docs/flows.md).
 *
 *   goten serve --model-file model.safetensors [--mode secure|plain|quantized] [--max-batch 32]     prediction only
 *   goten serve --owner-key owner.pub [--train-mode secure] [--state-dir dir]                         upload → train → download (+ predict)
 * common: [--host 127.0.0.1] [--port 8080] [--tee simulated] [--sim-key file] [--backend auto] [--policy-out file]
 *
 * --policy-out writes a policy accepting exactly this enclave (its measurement; for the simulated TEE also its
 * quoting key, with allowSimulated — development only) for clients to use. Stops on SIGINT/SIGTERM.
 */
import { verifyOption } from '../protocol-option.js';
import { parseVerifyMode } from '../../protocol/product-verifier.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { loadOwnerPublicKey } from '../../wire/owner-box.js';
import { startService } from '../../service/server.js';
import { createProvider, FileBacking, SimulatedProvider, TEE_KINDS, type TeeKind, type TeeProvider } from '../../tee/index.js';
import { toHex } from '../../tee/bytes.js';
import { BACKENDS, createModeExecutor, MODES, parseMode } from '../../modes/executors.js';
import { intOption, portOption } from '../../flags/numbers.js';
import { localBelowOption, opTimeoutOption, reconnectTimeoutOption } from '../protocol-option.js';

interface ServeFlags {
  modelFile?: string;
  ownerKey?: string;
  host: string;
  port: number;
  tee: string;
  simKey?: string;
  mode: string;
  trainMode?: string;
  maxBatch: number;
  maxQuery: number;
  backend: string;
  /** seconds to wait for a worker's answer to one op (secure mode) */
  opTimeout: number;
  reconnectTimeout: number;
  stateDir?: string;
  policyOut?: string;
  verify: string;
  localBelow: number;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the enclave service: attested, encrypted prediction (and, with --owner-key, upload → secure training → download)')
    .option('--model-file <checkpoint>', 'serve predictions with this checkpoint (or ONNX model)')
    .option('--owner-key <file>', "the model owner's X25519 public key (goten ownerkey): enables uploads, training and download")
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', portOption('--port'), 8080)
    .addOption(new Option('--tee <kind>', 'TEE provider').choices([...TEE_KINDS]).default('simulated'))
    .option('--sim-key <file>', 'simulated quoting-key file (default $GOTEN_SIM_QUOTING_KEY or ~/.goten/sim-quoting-key)')
    .addOption(new Option('--mode <mode>', 'executor of the prediction forward pass').choices([...MODES]).default('secure'))
    .addOption(new Option('--train-mode <mode>', 'executor of enclave training (default: --mode)').choices([...MODES]))
    .option('--max-batch <n>', 'most inputs per forward pass (concurrent queries are batched up to it)', intOption('--max-batch'), 32)
    .option('--max-query <n>', 'most inputs in one query', intOption('--max-query'), 256)
    .addOption(new Option('--backend <name>', 'kernel backend (secure: the workers)').choices([...BACKENDS]).default('auto'))
    .addOption(opTimeoutOption())
    .addOption(reconnectTimeoutOption())
    .option('--state-dir <dir>', 'untrusted directory for sealed uploads and models (default: host memory)')
    .option('--policy-out <file>', 'write a client policy accepting this enclave')
    .addOption(verifyOption())
    .addOption(localBelowOption())
    .action(async (f: ServeFlags) => {
      if (!f.modelFile && !f.ownerKey) throw new Error('give --model-file <checkpoint> and/or --owner-key <owner.pub>');
      const mode = parseMode(f.mode);
      const trainMode = f.trainMode ? parseMode(f.trainMode) : undefined;
      const provider = createProvider(f.tee as TeeKind, { keyPath: f.simKey });
      if (f.policyOut) writeFileSync(f.policyOut, JSON.stringify(await policyFor(provider), null, 2) + '\n');
      const log = (l: string) => process.stderr.write(`[goten serve] ${l}\n`);
      const svc = await startService({
        provider,
        host: f.host,
        port: f.port,
        mode,
        trainMode,
        makeExecutor: (m, seed) => createModeExecutor({ mode: m, backend: f.backend, seed, topology: 'single', verify: parseVerifyMode(f.verify), log, opTimeoutMs: f.opTimeout * 1000, reconnectTimeoutMs: f.reconnectTimeout * 1000, localBelow: f.localBelow }),
        modelBytes: f.modelFile ? readFileSync(f.modelFile) : undefined,
        ownerKey: f.ownerKey ? loadOwnerPublicKey(f.ownerKey) : undefined,
        backing: f.stateDir ? new FileBacking(f.stateDir) : undefined,
        maxBatch: f.maxBatch,
        maxInputsPerQuery: f.maxQuery,
        log,
      });
      await new Promise<void>((resolve) => {
        const stop = () => {
          log('stopping');
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await svc.close();
    });
}

/** A policy that accepts exactly this enclave (measurement pinned; simulated: its quoting key, dev only). */
export async function policyFor(p: TeeProvider): Promise<Record<string, unknown>> {
  return {
    ...(p.simulated ? { $comment: 'DEVELOPMENT policy: accepts the SIMULATED TEE (no security). Never use it in production.' } : {}),
    allowedKinds: [p.kind === 'sgx-gramine' ? 'sgx' : p.kind],
    measurements: [toHex(await p.measurement())],
    allowDebug: p.simulated,
    allowSimulated: p.simulated,
    simulatedQuotingKeys: p instanceof SimulatedProvider ? [p.quotingPublicKeyHex()] : [],
    keyBinding: 'goten-v1',
    acceptUnchecked: [],
  };
}
