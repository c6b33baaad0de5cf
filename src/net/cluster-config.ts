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
 *     },
 *     "spares": { "s0": { … } }         // optional: spare workers, named s0, s1, …
 *   }
 *
 * Party names are e0, e1 (enclaves) and w0, w1, w2 (workers); e0, w0 and w1 are
 * required. `keyFile` is optional and only read by the party itself; relative
 * paths are resolved against the config file's directory. Public keys come from
 * `goten keygen` and must be pairwise distinct. Unknown fields are errors (they
 * are usually typos). Errors name the offending field: ClusterConfigError.
 *
 * A spare (docs/net.md, "Spare workers") is an idle worker that can take the role of any worker: the
 * enclave puts it in the place of one whose result failed verification or that did not come back
 * after a lost connection. Its entry is validated like a party's (its own port and key).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadIdentity, publicKeyFromText, type Identity } from './identity.js';

export const PARTY_NAMES = ['e0', 'e1', 'w0', 'w1', 'w2'] as const;
export type PartyName = (typeof PARTY_NAMES)[number];
/** A spare worker's name: s0, s1, … */
export type SpareName = `s${number}`;
const SPARE_NAME = /^s(0|[1-9][0-9]{0,2})$/;
export function isSpareName(s: string): s is SpareName {
  return SPARE_NAME.test(s);
}
const REQUIRED: readonly PartyName[] = ['e0', 'w0', 'w1'];

export interface PartyConfig {
  name: PartyName | SpareName;
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
  /** Spare workers by name (s0, s1, …), in config order; empty when none. */
  spares: Record<SpareName, PartyConfig>;
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
  checkKeys(root, ['version', 'transport', 'topology', 'parties', 'spares'], 'top level', fail);
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
  // one check for parties and spares: every entry needs its own address and key
  const entryOf = (where: string, name: string, entry: unknown): PartyConfig => {
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
    if (sameAddr) fail(`${where}.port: ${addr} is also the address of ${sameAddr} (every party needs its own port)`);
    seenAddrs.set(addr, where);
    const pk = (e.publicKey as string).trim();
    const dup = seenKeys.get(pk);
    if (dup) fail(`${where}.publicKey: same key as ${dup} (every party needs its own key)`);
    seenKeys.set(pk, where);
    let keyFile: string | undefined;
    if (e.keyFile !== undefined) {
      if (typeof e.keyFile !== 'string' || e.keyFile === '') fail(`${where}.keyFile: expected a path string`);
      keyFile = isAbsolute(e.keyFile as string) ? (e.keyFile as string) : resolve(baseDir, e.keyFile as string);
    }
    return { name: name as PartyName | SpareName, host: (e.host as string).trim(), port: e.port as number, publicKey: pk, keyFile };
  };
  for (const [name, entry] of Object.entries(partiesIn)) {
    const where = `parties.${name}`;
    if (!(PARTY_NAMES as readonly string[]).includes(name)) fail(`${where}: unknown party name (expected one of ${PARTY_NAMES.join(', ')})`);
    parties[name as PartyName] = entryOf(where, name, entry);
  }
  const spares: Record<SpareName, PartyConfig> = {};
  if (root.spares !== undefined) {
    if (!isObject(root.spares)) fail('spares: expected an object mapping spare names (s0, s1, …) to entries like a party\'s');
    for (const [name, entry] of Object.entries(root.spares as Record<string, unknown>)) {
      if (!isSpareName(name)) fail(`spares.${name}: a spare's name is s0, s1, … (s followed by a number)`);
      spares[name as SpareName] = entryOf(`spares.${name}`, name, entry);
    }
  }
  for (const r of REQUIRED) if (!parties[r]) fail(`parties.${r}: missing (required parties: ${REQUIRED.join(', ')})`);
  if (topology === 'replicated' && !parties.e1) fail('topology "replicated" needs a second enclave, parties.e1');
  return { version: 1, transport: transport as 'tls' | 'tcp', topology: topology as ClusterConfig['topology'], parties, spares, source };
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

/** The entry of a party or a spare; throws if the config has none. */
export function partyConfig(config: ClusterConfig, party: string): PartyConfig {
  const p = config.parties[party as PartyName] ?? (isSpareName(party) ? config.spares[party] : undefined);
  if (!p) throw new ClusterConfigError(`${config.source}: no party "${party}" (have: ${[...Object.keys(config.parties), ...Object.keys(config.spares)].join(', ')})`);
  return p;
}

/** The configured workers and spares (every party that may play a worker's role), by name. */
export function workerNames(config: ClusterConfig): string[] {
  return [...(['w0', 'w1', 'w2'] as const).filter((w) => config.parties[w]), ...Object.keys(config.spares)];
}

/** Pinned public keys by party name, for the TLS transport and the AKE. */
export function pinnedKeys(config: ClusterConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of [...Object.values(config.parties), ...Object.values(config.spares)]) if (p) out[p.name] = p.publicKey;
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
