/**
 * The cluster config file: who the parties are, where they listen, and the
 * public identity key each one is pinned to. One file is shared by all parties;
 * each process picks its own entry (`--party`) and loads its private key from
 * that entry's `keyFile`.
 *
 *   {
 *     "version": 1,
 *     "transport": "tls",               // optional: "tls" (default) or "tcp" (unauthenticated)
 *     "topology": "single",             // optional: "single" | "replicated" (needs e1)
 *     "parties": {
 *       "e0": { "host": "10.0.0.1", "port": 7100, "publicKey": "ed25519:…", "keyFile": "keys/e0.key" },
 *       "e1": { … },                    // optional: the second enclave replica
 *       "w0": { … }, "w1": { … },       // required workers
 *       "w2": { … }                     // optional: online mode's mask worker
 *     }
 *   }
 *
 * Party names are e0, e1 (enclaves) and w0, w1, w2 (workers); e0, w0 and w1 are
 * required. `keyFile` is optional and only read by the party itself; relative
 * paths are resolved against the config file's directory. Public keys come from
 * `goten keygen` and must be pairwise distinct. Unknown fields are errors (they
 * are usually typos). Errors name the offending field: ClusterConfigError.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadIdentity, publicKeyFromText, type Identity } from './identity.js';

export const PARTY_NAMES = ['e0', 'e1', 'w0', 'w1', 'w2'] as const;
export type PartyName = (typeof PARTY_NAMES)[number];
const REQUIRED: readonly PartyName[] = ['e0', 'w0', 'w1'];

export interface PartyConfig {
  name: PartyName;
  host: string;
  port: number;
  /** "ed25519:…" */
  publicKey: string;
  /** Absolute path of the private key file, if given. */
  keyFile?: string;
}

export interface ClusterConfig {
  version: 1;
  transport: 'tls' | 'tcp';
  topology?: 'single' | 'replicated';
  parties: Partial<Record<PartyName, PartyConfig>>;
  /** Where it was loaded from (for messages). */
  source: string;
}

export class ClusterConfigError extends Error {
  override name = 'ClusterConfigError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string, fail: (m: string) => never): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`${where}: unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

/** Validate a parsed JSON value. `baseDir` resolves relative key file paths. */
export function parseClusterConfig(json: unknown, baseDir = process.cwd(), source = '<cluster config>'): ClusterConfig {
  const fail = (m: string): never => {
    throw new ClusterConfigError(`${source}: ${m}`);
  };
  if (!isObject(json)) fail('expected a JSON object');
  const root = json as Record<string, unknown>;
  checkKeys(root, ['version', 'transport', 'topology', 'parties'], 'top level', fail);
  if (root.version !== 1) fail(`version: expected 1, got ${JSON.stringify(root.version)}`);
  const transport = root.transport ?? 'tls';
  if (transport !== 'tls' && transport !== 'tcp') fail(`transport: expected "tls" or "tcp", got ${JSON.stringify(transport)}`);
  const topology = root.topology;
  if (topology !== undefined && topology !== 'single' && topology !== 'replicated') {
    fail(`topology: expected "single" or "replicated", got ${JSON.stringify(topology)}`);
  }
  if (!isObject(root.parties)) fail('parties: expected an object mapping party names (e0, e1, w0, w1, w2) to entries');
  const partiesIn = root.parties as Record<string, unknown>;
  const parties: Partial<Record<PartyName, PartyConfig>> = {};
  const seenKeys = new Map<string, string>();
  const seenAddrs = new Map<string, string>();
  for (const [name, entry] of Object.entries(partiesIn)) {
    const where = `parties.${name}`;
    if (!(PARTY_NAMES as readonly string[]).includes(name)) fail(`${where}: unknown party name (expected one of ${PARTY_NAMES.join(', ')})`);
    if (!isObject(entry)) fail(`${where}: expected an object with host, port, publicKey`);
    const e = entry as Record<string, unknown>;
    checkKeys(e, ['host', 'port', 'publicKey', 'keyFile'], where, fail);
    if (typeof e.host !== 'string' || e.host.trim() === '') fail(`${where}.host: expected a non-empty string, got ${JSON.stringify(e.host)}`);
    if (typeof e.port !== 'number' || !Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      fail(`${where}.port: expected an integer 1..65535, got ${JSON.stringify(e.port)}`);
    }
    if (typeof e.publicKey !== 'string') fail(`${where}.publicKey: expected "ed25519:…" (run \`goten keygen\`), got ${JSON.stringify(e.publicKey)}`);
    try {
      publicKeyFromText(e.publicKey as string);
    } catch (err) {
      fail(`${where}.publicKey: ${(err as Error).message}`);
    }
    // two parties cannot listen on one address: caught here rather than as EADDRINUSE when the second starts
    const addr = `${(e.host as string).trim()}:${e.port as number}`;
    const sameAddr = seenAddrs.get(addr);
    if (sameAddr) fail(`${where}.port: ${addr} is also the address of parties.${sameAddr} (every party needs its own port)`);
    seenAddrs.set(addr, name);
    const pk = (e.publicKey as string).trim();
    const dup = seenKeys.get(pk);
    if (dup) fail(`${where}.publicKey: same key as parties.${dup} (every party needs its own key)`);
    seenKeys.set(pk, name);
    let keyFile: string | undefined;
    if (e.keyFile !== undefined) {
      if (typeof e.keyFile !== 'string' || e.keyFile === '') fail(`${where}.keyFile: expected a path string`);
      keyFile = isAbsolute(e.keyFile as string) ? (e.keyFile as string) : resolve(baseDir, e.keyFile as string);
    }
    parties[name as PartyName] = { name: name as PartyName, host: (e.host as string).trim(), port: e.port as number, publicKey: pk, keyFile };
  }
  for (const r of REQUIRED) if (!parties[r]) fail(`parties.${r}: missing (required parties: ${REQUIRED.join(', ')})`);
  if (topology === 'replicated' && !parties.e1) fail('topology "replicated" needs a second enclave, parties.e1');
  return { version: 1, transport: transport as 'tls' | 'tcp', topology: topology as ClusterConfig['topology'], parties, source };
}

/** Read and validate a cluster config file. */
export function loadClusterConfig(path: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ClusterConfigError(`cannot read cluster config ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ClusterConfigError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return parseClusterConfig(json, dirname(resolve(path)), path);
}

/** The entry of a party; throws if the config has none. */
export function partyConfig(config: ClusterConfig, party: string): PartyConfig {
  const p = config.parties[party as PartyName];
  if (!p) throw new ClusterConfigError(`${config.source}: no party "${party}" (have: ${Object.keys(config.parties).join(', ')})`);
  return p;
}

/** Pinned public keys by party name, for the TLS transport and the AKE. */
export function pinnedKeys(config: ClusterConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of Object.values(config.parties)) if (p) out[p.name] = p.publicKey;
  return out;
}

/**
 * Load the local party's identity from its keyFile (or `keyFileOverride`) and
 * check that it matches the key the config pins for it.
 */
export function loadLocalIdentity(config: ClusterConfig, party: string, keyFileOverride?: string): Identity {
  const p = partyConfig(config, party);
  const file = keyFileOverride ?? p.keyFile;
  if (!file) throw new ClusterConfigError(`${config.source}: parties.${party}.keyFile is not set (and no key file was given)`);
  const id = loadIdentity(party, file);
  if (id.publicKeyText !== p.publicKey) {
    throw new ClusterConfigError(
      `${config.source}: the key in ${file} (${id.publicKeyText}) is not the key pinned for ${party} (${p.publicKey})`,
    );
  }
  return id;
}
