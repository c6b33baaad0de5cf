/**
 * `goten bench sweeps [--against <other build's goten_native.node>] [--elements N] [--reps R] [--json]`
 * `goten bench sweeps --idle 0,1,5,20,100 [--elements N] [--reps R] [--json]`
 *
 * The lean protocol's enclave sweeps, per element, straight on the addon (no workers, no JavaScript
 * around them): the operand sweep (quantize + S0 + D masks + 3-byte pack + max scan), the quantization
 * alone (what the verifier repeats), and the reconstruction of worker 1's packed result with the T mask.
 * With --against, another build of the addon (e.g. one built from an older commit with
 * `node-gyp rebuild --nodedir=/usr` in a copy of native/) is loaded into the same process and every call
 * alternates between the two on the same inputs, so the ratio is measured side by side on this noisy
 * machine; the two builds' results must be equal (max and every output byte), or the bench says so.
 * Reported: median CPU time of R calls (process.cpuUsage: the addon runs on this thread).
 *
 * With --idle, each sweep is timed after the thread has slept for each listed number of milliseconds
 * (untimed), as the enclave sleeps while the workers compute. On a shared host the same call can cost
 * much more after an idle wait than back to back (the core's caches were handed to someone else): this
 * shows how much, on the machine at hand, and so how much of a secure step's CPU is waiting's toll
 * rather than work (docs/benchmarks.md).
 */
import type { Command } from 'commander';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { requireNativeModule } from '../src/addon/addon.js';
import { type EnclaveAddon, ref } from '../src/protocol/enclave-kernels.js';
import { int } from './options.js';
import { cpuMsOf, median } from './step-instrument.js';
import { table } from './step-report.js';

/** The raw addon entry points this bench calls (their wrappers are in src/protocol/enclave-kernels.ts). */
type SweepAddon = Pick<EnclaveAddon, 'quantizeMaskPack' | 'reconstructDequantize' | 'packCentred24'>;

interface SweepsFlags {
  against?: string;
  idle?: string;
  elements: string;
  reps: string;
  json?: boolean;
}

const KEY = new Uint8Array(16).fill(0x5a);

/** A stream reference under a fixed test key. */
const streamRef = (id: number): Uint8Array => ref({ key: KEY, id: BigInt(id) });

interface Case {
  readonly name: string;
  /** Runs the sweep once on `a`; returns what must agree between builds. */
  run(a: SweepAddon): { max: number; bytes: Uint8Array };
}

/** The sweeps on n elements; `mine` packs the reconstruction's input once. */
function cases(n: number, mine: SweepAddon): Case[] {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 3.1;
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) v[i] = ((i * 2654435761) % 2_000_001) - 1_000_000; // centred: |v| < HALF
  const packed = new Uint8Array(3 * n);
  const q = new Int32Array(n);
  const out = new Float32Array(n);
  const result = new Uint8Array(3 * n);
  mine.packCentred24(v, result);
  const [noise, s0, d, t] = [1, 2, 3, 4].map(streamRef);
  return [
    {
      name: 'operand sweep: quantize + S0 + D + pack + max',
      run: (a) => ({ max: a.quantizeMaskPack(x, 5, noise, s0, d, null, packed), bytes: packed }),
    },
    {
      name: 'quantize only (the verifier)',
      run: (a) => ({ max: a.quantizeMaskPack(x, 5, noise, null, null, q, null), bytes: new Uint8Array(q.buffer) }),
    },
    {
      name: 'reconstruct: unpack S + T, centre, dequantize',
      run: (a) => ({ max: a.reconstructDequantize([result], [t], -9, out, 1), bytes: new Uint8Array(out.buffer) }),
    },
  ];
}


function equalBytes(p: Uint8Array, q: Uint8Array): boolean {
  if (p.length !== q.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return false;
  return true;
}

function loadMine(): SweepAddon {
  const mine = requireNativeModule() as Partial<SweepAddon> & { unavailable?: string };
  if (mine.unavailable || typeof mine.quantizeMaskPack !== 'function') throw new Error(`bench sweeps needs the native addon (${mine.unavailable ?? 'no enclave kernels'})`);
  return mine as SweepAddon;
}

/** "0,1,5" → [0, 1, 5]: whole milliseconds, at most 10 s each. */
function idleList(s: string): number[] {
  const v = s.split(',').map((t) => t.trim());
  if (v.some((t) => !/^\d+$/.test(t) || Number(t) > 10_000)) throw new RangeError(`--idle: expected comma-separated whole milliseconds ≤ 10000, got '${s}'`);
  return v.map(Number);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/** Each sweep after each idle time: median CPU of `reps` calls, each after an untimed sleep. */
async function runIdle(f: SweepsFlags, idles: number[]): Promise<void> {
  const n = int(f.elements, '--elements', 1024);
  const reps = int(f.reps, '--reps', 3);
  const mine = loadMine();
  const rows: string[][] = [['sweep', 'idle before ms', 'median ms', 'ns/elt', '÷ first idle']];
  for (const c of cases(n, mine)) {
    c.run(mine); // warm: code paths and buffers
    let base = 0;
    for (const [i, idle] of idles.entries()) {
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        await sleep(idle);
        times.push(cpuMsOf(() => c.run(mine)));
      }
      const ms = median(times);
      if (i === 0) base = ms;
      if (f.json) process.stdout.write(JSON.stringify({ bench: 'sweeps', sweep: c.name, elements: n, reps, idleMs: idle, ms, nsPerElement: (ms * 1e6) / n }) + '\n');
      rows.push([i === 0 ? c.name : '', String(idle), ms.toFixed(3), ((ms * 1e6) / n).toFixed(3), (ms / base).toFixed(2)]);
    }
  }
  if (f.json) return;
  process.stdout.write(`bench sweeps: ${n} elements, median CPU of ${reps} calls, each after the thread slept (untimed)\n\n`);
  process.stdout.write(table(rows));
}

function run(f: SweepsFlags): void {
  const n = int(f.elements, '--elements', 1024);
  const reps = int(f.reps, '--reps', 3);
  const mine = loadMine();
  const other = f.against ? (createRequire(import.meta.url)(resolve(f.against)) as SweepAddon) : null;
  const builds: [string, SweepAddon][] = [['this build', mine], ...(other ? ([['--against', other]] as [string, SweepAddon][]) : [])];
  const rows: string[][] = [['sweep', ...builds.flatMap(([b]) => [`${b} ms`, 'ns/elt']), ...(other ? ['against ÷ this', 'same results'] : [])]];
  for (const c of cases(n, builds[0][1])) {
    // the builds must agree (compared once, outside the timed calls: copying outputs between timed calls
    // would evict the inputs from the caches before every second call)
    let same = true;
    if (other) {
      const first = c.run(builds[0][1]);
      const max = first.max;
      const bytes = first.bytes.slice();
      const second = c.run(builds[1][1]);
      same = Object.is(max, second.max) && equalBytes(bytes, second.bytes);
    }
    // timed calls alternate, and so does which build goes first (ABBA…): neither inherits a warmer cache
    const times = builds.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      const order = r % 2 === 0 ? builds.map((_, i) => i) : builds.map((_, i) => builds.length - 1 - i);
      for (const i of order) times[i].push(cpuMsOf(() => c.run(builds[i][1])));
    }
    const ms = times.map(median);
    const perElement = ms.map((t) => (t * 1e6) / n);
    if (f.json) {
      process.stdout.write(JSON.stringify({ bench: 'sweeps', sweep: c.name, elements: n, reps, ms: ms[0], nsPerElement: perElement[0], ...(other ? { againstMs: ms[1], againstNsPerElement: perElement[1], sameResults: same } : {}) }) + '\n');
    }
    rows.push([c.name, ...ms.flatMap((t, i) => [t.toFixed(2), perElement[i].toFixed(3)]), ...(other ? [(ms[1] / ms[0]).toFixed(3), same ? 'yes' : 'NO'] : [])]);
  }
  if (f.json) return;
  process.stdout.write(`bench sweeps: ${n} elements, median CPU of ${reps} calls${other ? ', the two builds alternating' : ''}\n\n`);
  process.stdout.write(table(rows));
}

export function register(bench: Command): void {
  bench
    .command('sweeps')
    .description("the lean enclave's sweeps per element on the addon; --against another build of it, side by side")
    .option('--against <file>', "another build's goten_native.node, called alternately on the same inputs")
    .option('--elements <n>', 'elements per sweep', String(4 << 20))
    .option('--reps <n>', 'calls per build (median)', '41')
    .option('--idle <ms,...>', 'time each sweep after the thread slept this long (e.g. 0,1,5,20,100)')
    .option('--json', 'one JSON object per sweep on stdout', false)
    .action(async (f: SweepsFlags) => {
      if (f.idle === undefined) return run(f);
      if (f.against !== undefined) throw new Error('bench sweeps: --idle and --against do not combine (run them apart)');
      await runIdle(f, idleList(f.idle));
    });
}
