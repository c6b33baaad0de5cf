/**
 * Shared by the client commands (upload, download, train-remote, query): connect to an enclave service
 * through the client library — attestation verified against the policy before anything is sent — and load
 * data given as a spec or a GDS1 file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connectEnclave, type EnclaveClient, loadOwnerPrivateKey, loadOwnerPublicKey, decodeDatasetFile } from '../client/index.js';
import type { Dataset } from '../data/dataset.js';
import { loadDataset } from '../data/spec.js';
import { loadPolicy } from '../tee/index.js';

export interface ClientFlags {
  to: string;
  policy: string;
  ownerKey?: string;
  expectOwner?: string;
  json?: boolean;
}

export async function connectFromFlags(f: ClientFlags, owner: boolean, expectModel?: string): Promise<EnclaveClient> {
  const policy = loadPolicy(f.policy);
  const c = await connectEnclave(f.to, {
    policy,
    ownerKey: owner && f.ownerKey ? loadOwnerPrivateKey(f.ownerKey) : undefined,
    expectOwner: f.expectOwner ? loadOwnerPublicKey(f.expectOwner) : undefined,
    expectModel,
  });
  const v = c.verdict.claims;
  process.stderr.write(
    `verified ${f.to}: ${v.format}${v.simulated ? ' — SIMULATED TEE, NO SECURITY' : ''}, measurement ${v.measurement.slice(0, 16)}…, ` +
      `channel key bound; owner ${c.config.owner ? c.config.owner.slice(0, 16) + '…' : '(none)'}, model ${c.config.model ? c.config.model.digest.slice(0, 16) + '…' : '(none)'}\n`,
  );
  return c;
}

/** `--data`: an existing GDS1 file, or a data spec (mnist, idx:<dir>, cifar10:<dir>, synthetic:…). */
export function loadDataArg(arg: string, o: { limitTrain?: number; limitTest?: number; seed?: number }): Dataset {
  if (existsSync(arg) && statSync(arg).isFile()) return decodeDatasetFile(readFileSync(arg));
  return loadDataset(arg, o);
}
