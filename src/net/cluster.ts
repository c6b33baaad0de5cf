/**
 * Glue between the cluster config and the transports: open the configured
 * transport as the local party, listen on its configured port, connect to a
 * named party, and write a complete localhost cluster (keys + config) for demos
 * and tests.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { partyConfig, pinnedKeys, type ClusterConfig, type PartyName } from './cluster-config.js';
import { generateIdentity, saveIdentity, type Identity } from './identity.js';
import { tcpTransport } from './tcp.js';
import { tlsTransport } from './tls.js';
import type { CommonOptions, Connection, ListenOptions, Listener, Transport } from './transport.js';

/** The transport the config asks for, acting as `identity` (required for tls). */
export function transportFor(config: ClusterConfig, identity?: Identity): Transport {
  if (config.transport === 'tcp') return tcpTransport();
  if (!identity) throw new Error('the tls transport needs the local party identity');
  return tlsTransport({ identity, peers: pinnedKeys(config) });
}

/** Listen on the local party's configured port (on all interfaces unless `host` is given). */
export async function listenAsParty(
  transport: Transport,
  config: ClusterConfig,
  self: string,
  opts: ListenOptions = {},
): Promise<Listener> {
  const p = partyConfig(config, self);
  return transport.listen({ host: p.host, port: p.port, ...opts });
}

/** Connect to a configured party (tls: authenticated as that party). */
export async function connectToParty(
  transport: Transport,
  config: ClusterConfig,
  party: string,
  opts: CommonOptions & { timeoutMs?: number } = {},
): Promise<Connection> {
  const p = partyConfig(config, party);
  return transport.connect({ host: p.host, port: p.port, peer: party, ...opts });
}

/** Connects to a configured party, retrying while it is not listening yet (until `deadline`, ms since the epoch). */
export async function connectWithRetry(t: Transport, config: ClusterConfig, party: string, deadline: number): Promise<Connection> {
  for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
    try {
      return await connectToParty(t, config, party, { timeoutMs: Math.max(1000, deadline - Date.now()) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const retryable = code === 'ECONNREFUSED' || /ECONNREFUSED|nothing listens/.test((err as Error).message);
      if (!retryable || Date.now() + delay > deadline) {
        const p = partyConfig(config, party);
        throw new Error(`cannot reach ${party} at ${p.host}:${p.port}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export interface LocalClusterOptions {
  parties?: readonly PartyName[];
  host?: string;
  basePort?: number;
  /** One port per party, in party order (instead of basePort, basePort+1, …). */
  ports?: readonly number[];
  transport?: 'tls' | 'tcp';
  topology?: 'single' | 'replicated';
}

/**
 * Generate fresh identity keys for each party into DIR/keys/ and write
 * DIR/cluster.json pointing at them (ports `ports`, or basePort, basePort+1, …
 * in party order). Returns the config file path.
 */
export function writeLocalCluster(dir: string, opts: LocalClusterOptions = {}): string {
  const parties = opts.parties ?? (opts.topology === 'replicated' ? ['e0', 'e1', 'w0', 'w1', 'w2'] : ['e0', 'w0', 'w1', 'w2']);
  const host = opts.host ?? '127.0.0.1';
  const basePort = opts.basePort ?? 47100;
  if (opts.ports && opts.ports.length !== parties.length) throw new RangeError(`${parties.length} parties need ${parties.length} ports, got ${opts.ports.length}`);
  const entries: Record<string, unknown> = {};
  parties.forEach((name, i) => {
    const id = generateIdentity(name);
    saveIdentity(id, join(dir, 'keys'), { force: true });
    entries[name] = { host, port: opts.ports?.[i] ?? basePort + i, publicKey: id.publicKeyText, keyFile: `keys/${name}.key` };
  });
  const cfg: Record<string, unknown> = { version: 1, transport: opts.transport ?? 'tls' };
  if (opts.topology) cfg.topology = opts.topology;
  cfg.parties = entries;
  const path = resolve(dir, 'cluster.json');
  writeFileSync(path, JSON.stringify(cfg, null, 2) + '\n');
  return path;
}
