/**
 * `goten keygen --out <dir> --name <party> [--force] [--json]`
 *
 * Creates a party's long-term Ed25519 identity key pair (src/net/identity.ts):
 * <dir>/<party>.key (PKCS#8 PEM, mode 0600 — secret, stays on that party's
 * machine) and <dir>/<party>.pub, and prints the public key and the cluster
 * config entry to paste (src/net/cluster-config.ts). Never prints the private key.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { PARTY_NAMES } from '../../net/cluster-config.js';
import { generateIdentity, saveIdentity } from '../../net/identity.js';

interface KeygenOptions {
  out: string;
  name: string;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('keygen')
    .description("create a party's identity key pair and print its public key for the cluster config")
    .requiredOption('--out <dir>', 'directory for <name>.key (private, mode 0600) and <name>.pub')
    .requiredOption('--name <party>', `party name (${PARTY_NAMES.join(', ')}, or a client name)`)
    .option('--force', 'overwrite an existing key file')
    .option('--json', 'print one JSON object instead of text')
    .action((o: KeygenOptions) => {
      const id = generateIdentity(o.name);
      const files = saveIdentity(id, o.out, { force: o.force });
      const keyFile = resolve(files.keyFile);
      if (o.json) {
        process.stdout.write(JSON.stringify({ party: o.name, publicKey: files.publicKeyText, keyFile, pubFile: resolve(files.pubFile) }) + '\n');
        return;
      }
      const entry = { host: '<host>', port: 0, publicKey: files.publicKeyText, keyFile };
      const lines = [
        `wrote ${keyFile} (private key: keep it on this machine, never share it)`,
        `wrote ${resolve(files.pubFile)}`,
        `public key of ${o.name}: ${files.publicKeyText}`,
        '',
        'cluster config entry (under "parties"; set host and port):',
        `  ${JSON.stringify(o.name)}: ${JSON.stringify(entry)}`,
      ];
      if (!(PARTY_NAMES as readonly string[]).includes(o.name)) {
        lines.push('', `note: "${o.name}" is not a cluster party name (${PARTY_NAMES.join(', ')}); fine for a client key.`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
