/**
 * `goten upload --data <spec | file.gds> --to <enclave url> --policy <file> [--expect-owner owner.pub]
 *               [--limit-train n] [--limit-test n] [--seed n] [--json]`
 *
 * Data contributor: verifies the enclave's attestation against the policy (nothing is sent before), then
 * uploads the data set's train and test splits encrypted to the enclave, which seals every chunk under its
 * provider key (docs/flows.md). --expect-owner refuses an enclave whose attested owner is someone else.
 */
import type { Command } from 'commander';
import { uploadDataset, type UploadResult } from '../../client/flows.js';
import { type ClientFlags, connectFromFlags, loadDataArg } from '../client-setup.js';
import { intOption } from '../../flags/numbers.js';

interface UploadFlags extends ClientFlags {
  data: string;
  limitTrain?: number;
  limitTest?: number;
  seed: number;
}

export function register(program: Command): void {
  program
    .command('upload')
    .description('data contributor: verify an enclave and upload a data set encrypted to it')
    .requiredOption('--data <spec|file>', 'data spec (mnist, idx:<dir>, cifar10:<dir>, synthetic:…) or a GDS1 file')
    .requiredOption('--to <url>', 'the enclave service, e.g. http://127.0.0.1:8080')
    .requiredOption('--policy <file>', 'attestation policy the enclave must satisfy')
    .option('--expect-owner <file>', 'refuse unless the enclave hands trained models to this owner (owner .pub)')
    .option('--limit-train <n>', 'upload only the first n training samples', intOption('--limit-train'))
    .option('--limit-test <n>', 'upload only the first n test samples', intOption('--limit-test'))
    .option('--seed <n>', 'seed of synthetic data', intOption('--seed', 0), 1)
    .option('--json', 'print one JSON object', false)
    .action(async (f: UploadFlags) => {
      const r = await runUpload(f);
      process.stdout.write(
        f.json ? JSON.stringify(r) + '\n' : `uploaded ${r.train} train + ${r.test} test samples (${r.bytes} bytes in ${r.chunks} encrypted chunks); sealed in the enclave as ${r.dataset}\n`,
      );
    });
}

export async function runUpload(f: UploadFlags): Promise<UploadResult> {
  const data = loadDataArg(f.data, { limitTrain: f.limitTrain, limitTest: f.limitTest, seed: f.seed });
  const c = await connectFromFlags(f, false);
  return uploadDataset(c, data);
}
