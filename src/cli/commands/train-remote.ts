/**
 * `goten train-remote --to <url> --policy <file> --owner-key owner.key --model <name|config.json>
 *                     [--epochs n] [--batch n] [--lr x] [--seed n] [--optimizer sgd|adam] [--schedule s] [--no-wait] [--json]`
 *
 * Model owner: verifies the enclave (including that its attested owner is this key), opens an owner session
 * (keyed with the owner key, so only the owner can start training) and starts training on the uploaded
 * data; waits for it and prints the per-epoch metrics (which only the owner receives; --json: one JSON
 * object per epoch, as goten train).
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { startTraining, type TrainingStatus, type TrainParams, waitForTraining } from '../../client/flows.js';
import { type ClientFlags, connectFromFlags } from '../client-setup.js';
import { intOption, numOption } from '../../flags/numbers.js';

/** The /train request's fields (the --model flag is a name or a config file path) and the client's. */
interface RemoteTrainFlags extends ClientFlags, TrainParams {
  model: string;
  wait: boolean;
}

export function register(program: Command): void {
  program
    .command('train-remote')
    .description('model owner: start secure training inside a verified enclave on the uploaded data')
    .requiredOption('--to <url>', 'the enclave service')
    .requiredOption('--policy <file>', 'attestation policy the enclave must satisfy')
    .requiredOption('--owner-key <file>', "the owner's private key (goten ownerkey)")
    .option('--model <name|config.json>', 'built-in model or a JSON config file (sent inline)', 'mnist-cnn')
    .option('--epochs <n>', 'epochs', intOption('--epochs'), 1)
    .option('--batch <n>', 'mini-batch size', intOption('--batch'), 64)
    .option('--lr <x>', 'learning rate', numOption('--lr'))
    .option('--seed <n>', 'seed', intOption('--seed', 0), 1)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'adam']).default('sgd'))
    .option('--schedule <s>', 'learning-rate schedule', 'cosine')
    .option('--no-wait', 'return once training has started')
    .option('--json', 'one JSON object per epoch on stdout', false)
    .action(async (f: RemoteTrainFlags) => {
      const s = await runRemoteTrain(f);
      const out = remoteTrainOutput(s, f.json === true);
      process.stdout.write(out.stdout);
      process.stderr.write(out.stderr);
    });
}

/** What the command prints: with --json, stdout holds only the per-epoch JSON objects (status text goes to stderr). */
export function remoteTrainOutput(s: TrainingStatus | null, json: boolean): { stdout: string; stderr: string } {
  if (!s) return json ? { stdout: '', stderr: 'training started\n' } : { stdout: 'training started\n', stderr: '' };
  let stdout = '';
  for (const e of s.epochs) {
    stdout += json
      ? JSON.stringify(e) + '\n'
      : `epoch ${e.epoch}: loss ${Number(e.loss).toFixed(4)}, train ${(100 * Number(e.trainAccuracy)).toFixed(2)}%, test ${(100 * Number(e.testAccuracy)).toFixed(2)}%, ${e.overflows} overflows\n`;
  }
  return { stdout, stderr: '' };
}

export async function runRemoteTrain(f: RemoteTrainFlags): Promise<TrainingStatus | null> {
  const model = existsSync(f.model) ? readModelConfig(f.model) : f.model;
  const c = await connectFromFlags(f, true);
  await startTraining(c, { model, epochs: f.epochs, batch: f.batch, lr: f.lr, seed: f.seed, optimizer: f.optimizer, schedule: f.schedule });
  if (!f.wait) return null;
  return waitForTraining(c, { onStatus: (s) => process.stderr.write(`training: ${s.state}, ${s.epochs.length} epoch(s) done\n`) });
}

/** A --model config file, parsed; a file that is not JSON is reported by name (not as a bare SyntaxError). */
export function readModelConfig(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`model config ${path} is not valid JSON: ${(err as Error).message}`);
  }
}
