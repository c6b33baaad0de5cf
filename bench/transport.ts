/**
 * `goten bench transport [--json] [--mb 64] [--iters 8] [--transports tcp,tls]`
 *
 * Throughput of one large Int32 frame between two Node processes on loopback
 * (the receiver is a forked child, so that each side has its own event loop): the
 * parent sends a frame, the child receives it into a pooled buffer, releases it
 * and answers with a tiny Pong; GB/s = frame bytes / (send start → Pong). Two
 * warm-up messages are not timed (they warm the receive pool). Reports the
 * median and the best of the timed messages.
 *
 * With --json: one object per transport,
 *   {"bench":"transport","transport":"tls","mb":64,"iters":8,"medianGBps":0.61,"bestGBps":0.66}
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { generateIdentity, identityFromPem, type Identity } from '../src/net/identity.js';
import { MsgType } from '../src/net/message-types.js';
import { tcpTransport } from '../src/net/tcp.js';
import { tlsTransport } from '../src/net/tls.js';
import type { Transport } from '../src/net/transport.js';

const CHILD_ENV = 'GOTEN_BENCH_TRANSPORT_CHILD';
type Kind = 'tcp' | 'tls';

interface ChildSetup {
  kind: Kind;
  serverKey: string;
  clientPublicKey: string;
}

function makeTransport(kind: Kind, self: Identity, peerName: string, peerKey: string): Transport {
  return kind === 'tcp' ? tcpTransport() : tlsTransport({ identity: self, peers: { [self.name]: self.publicKeyText, [peerName]: peerKey } });
}

/** Child process: listen, echo a Pong for every received frame. */
async function runChild(): Promise<void> {
  const setup = JSON.parse(process.env[CHILD_ENV] as string) as ChildSetup;
  const self = identityFromPem('w0', setup.serverKey);
  const t = makeTransport(setup.kind, self, 'e0', setup.clientPublicKey);
  const l = await t.listen({ host: '127.0.0.1', port: 0, maxFrameBytes: 1 << 30 });
  process.send?.({ port: l.port });
  const c = await l.accept();
  for (;;) {
    const m = await c.recv().catch(() => null);
    if (!m) break;
    m.release();
    await c.send({ type: MsgType.Pong, dtype: 'json', value: 0 });
  }
  await l.close();
  process.exit(0);
}

export interface TransportResult {
  bench: 'transport';
  transport: Kind;
  mb: number;
  iters: number;
  medianGBps: number;
  bestGBps: number;
}

/** Measure one transport. */
export async function measureTransport(kind: Kind, mb: number, iters: number): Promise<TransportResult> {
  const server = generateIdentity('w0');
  const client = generateIdentity('e0');
  const setup: ChildSetup = {
    kind,
    serverKey: server.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    clientPublicKey: client.publicKeyText,
  };
  const self = fileURLToPath(import.meta.url);
  const execArgv = self.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  const child = fork(self, [], { env: { ...process.env, [CHILD_ENV]: JSON.stringify(setup) }, execArgv, stdio: 'inherit' });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`transport bench child exited with ${code}`)));
    });
    const t = makeTransport(kind, client, 'w0', server.publicKeyText);
    const conn = await t.connect({ host: '127.0.0.1', port, peer: 'w0', maxFrameBytes: 1 << 30 });
    const data = new Int32Array((mb * 1024 * 1024) / 4);
    for (let i = 0; i < data.length; i += 1024) data[i] = i; // touch every page once
    const rates: number[] = [];
    for (let i = 0; i < iters + 2; i++) {
      const t0 = process.hrtime.bigint();
      await conn.send({ type: MsgType.Shares, label: 'bench', dtype: 'int32', data });
      (await conn.expect(MsgType.Pong)).release();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (i >= 2) rates.push(data.byteLength / s / 1e9);
    }
    await conn.close();
    rates.sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)];
    const round = (x: number): number => Math.round(x * 100) / 100;
    return { bench: 'transport', transport: kind, mb, iters, medianGBps: round(median), bestGBps: round(rates[rates.length - 1]) };
  } finally {
    child.kill();
  }
}

interface Flags {
  json?: boolean;
  mb: string;
  iters: string;
  transports: string;
}

export function register(bench: Command): void {
  bench
    .command('transport')
    .description('GB/s of one large Int32 frame over loopback tcp / tls between two processes')
    .option('--json', 'one JSON object per line instead of a table')
    .option('--mb <n>', 'frame size in MB', '64')
    .option('--iters <n>', 'timed messages per transport', '8')
    .option('--transports <list>', 'comma-separated: tcp,tls', 'tcp,tls')
    .action(async (f: Flags) => {
      const mb = Number(f.mb);
      const iters = Number(f.iters);
      if (!(mb > 0 && mb <= 512) || !(Number.isInteger(iters) && iters > 0)) throw new Error('--mb must be in (0, 512] and --iters a positive integer');
      const kinds = f.transports.split(',').map((s) => s.trim());
      for (const k of kinds) if (k !== 'tcp' && k !== 'tls') throw new Error(`unknown transport "${k}" (tcp, tls)`);
      if (!f.json) process.stdout.write('transport   MB   median GB/s   best GB/s\n');
      for (const k of kinds as Kind[]) {
        const r = await measureTransport(k, mb, iters);
        if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
        else process.stdout.write(`${k.padEnd(9)} ${String(mb).padStart(4)}   ${r.medianGBps.toFixed(2).padStart(11)}   ${r.bestGBps.toFixed(2).padStart(9)}\n`);
      }
    });
}

if (process.env[CHILD_ENV]) {
  runChild().catch((err) => {
    process.stderr.write(`transport bench child: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
