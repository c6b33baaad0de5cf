/**
 * A hand-started cluster with spare workers (docs/net.md, "Spare workers"): a cluster config on free
 * loopback ports (tcp) whose "spares" lists s0, …; three long-running `goten worker` processes, one of
 * them with `--inject-fault <fault>`, the spares (`goten worker --party s0`), and
 * `goten train --mode secure --cluster … --party e0` against them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLocalCluster } from '../../src/net/cluster.js';
import { generateIdentity, saveIdentity } from '../../src/net/identity.js';
import { freePort } from '../../src/roles/launcher.js';
import { Watched, spawnGoten } from '../cli.js';
import { TRAIN } from './recovery-rig.js';

const start = (args: string[]) => new Watched(spawnGoten(args, { stdio: ['ignore', 'pipe', 'pipe'] }));

/** Adds `n` spares (s0, …) with fresh keys on free ports to the config at `path`. */
export async function addSpares(path: string, dir: string, n: number): Promise<void> {
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const spares: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const id = generateIdentity(`s${i}`);
    saveIdentity(id, join(dir, 'keys'), { force: true });
    spares[`s${i}`] = { host: '127.0.0.1', port: await freePort(), publicKey: id.publicKeyText, keyFile: `keys/s${i}.key` };
  }
  cfg.spares = spares;
  writeFileSync(path, JSON.stringify(cfg, null, 2) + '\n');
}

export interface SpareRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Each process's log: w0, w1, w2, then the spares. */
  readonly logs: Record<string, string>;
}

/** `goten train` against workers w0..w2 (worker `faulty` with `--inject-fault fault`) and `spares` spares. */
export async function spareRun(o: { protocol: 'lean' | 'goten'; faulty: number; fault: string; spares: number; extra?: string[] }): Promise<SpareRun> {
  const dir = mkdtempSync(join(tmpdir(), 'goten-spares-'));
  const procs = new Map<string, Watched>();
  try {
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    const config = writeLocalCluster(dir, { transport: 'tcp', ports });
    await addSpares(config, dir, o.spares);
    for (const w of [0, 1, 2]) {
      procs.set(`w${w}`, start(['worker', '--config', config, '--party', String(w), '--backend', 'js', ...(w === o.faulty ? ['--inject-fault', o.fault] : [])]));
    }
    for (let i = 0; i < o.spares; i++) procs.set(`s${i}`, start(['worker', '--config', config, '--party', `s${i}`, '--backend', 'js']));
    const train = start(['train', '--mode', 'secure', '--cluster', config, '--party', 'e0', '--protocol', o.protocol, ...(o.extra ?? []), ...TRAIN]);
    const code = await train.done;
    for (const p of procs.values()) p.child.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.done));
    return { code, stdout: train.stdout, stderr: train.stderr, logs: Object.fromEntries([...procs].map(([k, p]) => [k, p.stderr])) };
  } finally {
    for (const p of procs.values()) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
