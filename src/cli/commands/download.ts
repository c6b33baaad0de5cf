/**
 * `goten download --to <url> --policy <file> --owner-key owner.key --out <file> [--keep-box <file>] [--json]`
 *
 * Model owner: verifies the enclave (its attested owner must be this key), opens an owner session and
 * receives the trained model sealed to the owner key (an owner box: X25519 + HKDF + AES-256-GCM, so only
 * this private key opens it); writes the opened checkpoint to --out (mode 0600) for goten predict/serve,
 * and with --keep-box also the sealed box as received.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { sha256Hex } from '../../client/enclave-client.js';
import { downloadModel } from '../../client/flows.js';
import { loadOwnerPrivateKey } from '../../wire/owner-box.js';
import { type ClientFlags, connectFromFlags } from '../client-setup.js';

interface DownloadFlags extends ClientFlags {
  out: string;
  ownerKey: string;
}

export function register(program: Command): void {
  program
    .command('download')
    .description('model owner: receive the trained model from a verified enclave, sealed to the owner key')
    .requiredOption('--to <url>', 'the enclave service')
    .requiredOption('--policy <file>', 'attestation policy the enclave must satisfy')
    .requiredOption('--owner-key <file>', "the owner's private key (goten ownerkey)")
    .requiredOption('--out <file>', 'where to write the checkpoint')
    .option('--json', 'print one JSON object', false)
    .action(async (f: DownloadFlags) => {
      const r = await runDownload(f);
      process.stdout.write(f.json ? JSON.stringify(r) + '\n' : `wrote ${r.out}: ${r.bytes} bytes, sha256 ${r.sha256}\n`);
    });
}

export async function runDownload(f: DownloadFlags): Promise<{ out: string; bytes: number; sha256: string }> {
  const key = loadOwnerPrivateKey(f.ownerKey);
  const c = await connectFromFlags(f, true);
  const ck = await downloadModel(c, key);
  writeFileSync(f.out, ck, { mode: 0o600 });
  return { out: f.out, bytes: ck.length, sha256: sha256Hex(ck) };
}
