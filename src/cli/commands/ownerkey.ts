/**
 * `goten ownerkey --out <dir> [--name owner] [--force]`: the model owner's X25519 key pair
 * (wire/owner-box.ts): <dir>/<name>.key (PKCS#8 PEM, mode 0600, secret) and <dir>/<name>.pub (SPKI PEM,
 * for the enclave operator: `goten serve --owner-key <name>.pub`). Never prints the private key.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadOwnerPublicKey, ownerKeyHex, writeOwnerKey } from '../../wire/owner-box.js';

export function register(program: Command): void {
  program
    .command('ownerkey')
    .description("create a model owner's X25519 key pair (trained models are sealed to it)")
    .requiredOption('--out <dir>', 'directory for <name>.key (private, 0600) and <name>.pub')
    .option('--name <name>', 'file name stem', 'owner')
    .option('--force', 'overwrite an existing key')
    .action((o: { out: string; name: string; force?: boolean }) => {
      const f = writeOwnerKey(o.out, o.name, o.force === true);
      process.stdout.write(
        `wrote ${resolve(f.keyFile)} (private: keep it, never share it)\n` +
          `wrote ${resolve(f.pubFile)} (give it to the enclave operator: goten serve --owner-key ${f.pubFile})\n` +
          `owner key ${ownerKeyHex(loadOwnerPublicKey(f.pubFile))}\n`,
      );
    });
}
