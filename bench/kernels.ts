/**
 * `goten bench kernels [--json] [--backends js,native] [--quick]`: GFLOP/s of each
 * backend for mod-P and float32 GEMM (512³, 1024³, 2048³, 256×4608×512) and the
 * VGG conv (batch 32, 128→128, 16×16, 3×3, pad 1), measured side by side.
 *
 * Default output is a table, one row per op and shape, printed as each finishes.
 * With --json, stdout carries one object per (backend, op, shape):
 *   {"backend","op","m","k","n","gflops","ms","reps"}
 * and a final {"summary":"native/js", "op":"gemm-modp","m":1024,..., "ratio"}.
 * Mod-P outputs of all backends are compared; a mismatch fails the command.
 */
import { loadavg } from 'node:os';
import type { Command } from 'commander';
import type { Backend } from '../src/backend/backend.js';
import { getBackend, nativeAvailability } from '../src/backend/index.js';
import { createNativeBackend } from '../src/backend/native/native-backend.js';
import { FULL_PLAN, type KernelOp, QUICK_PLAN, kernelCases, timeInterleaved } from './kernel-cases.js';

interface KernelFlags {
  readonly json?: boolean;
  readonly backends: string;
  readonly quick?: boolean;
  readonly threads?: string;
}

export interface KernelRow {
  readonly backend: string;
  readonly op: KernelOp;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly gflops: number;
  readonly ms: number;
  readonly reps: number;
}

const KNOWN = ['js', 'native'] as const;
type Known = (typeof KNOWN)[number];

function parseBackends(list: string): Known[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new RangeError('--backends: give at least one of js, native');
  for (const n of names) {
    if (!(KNOWN as readonly string[]).includes(n)) throw new RangeError(`--backends: unknown backend '${n}' (expected js, native)`);
  }
  return [...new Set(names)] as Known[];
}

/** Available backends among the requested ones; the unavailable are reported on stderr and skipped. */
function openBackends(names: readonly Known[]): { name: Known; be: Backend }[] {
  const out: { name: Known; be: Backend }[] = [];
  for (const name of names) {
    if (name === 'native') {
      const a = nativeAvailability();
      if (!a.available) {
        process.stderr.write(`goten bench kernels: skipping native: ${a.reason}\n`);
        continue;
      }
    }
    out.push({ name, be: getBackend(name) });
  }
  if (out.length === 0) throw new Error('no requested backend is available');
  return out;
}

function sameOutput(a: Int32Array | Float32Array, b: Int32Array | Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export async function runKernelBench(flags: KernelFlags): Promise<KernelRow[]> {
  const backends = openBackends(parseBackends(flags.backends));
  const plan = flags.quick ? QUICK_PLAN : FULL_PLAN;
  const names = backends.map((b) => b.name);
  const both = names.includes('js') && names.includes('native');
  const write = (s: string): boolean => process.stdout.write(s);
  if (names.includes('native')) {
    const native = createNativeBackend();
    if (flags.threads !== undefined) {
      const t = Number(flags.threads);
      if (!Number.isInteger(t) || t < 1) throw new RangeError(`--threads: expected a positive integer, got ${flags.threads}`);
      native.setThreads(t);
    }
    const info = native.info();
    process.stderr.write(`native: ${info.blas}, ${info.threads} thread(s) (${info.config})\n`);
  }
  // The machine may be shared: the load average tells how far to trust absolute numbers
  // (ratios are measured interleaved and suffer less).
  process.stderr.write(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  if (!flags.json) {
    const head = ['op'.padEnd(12), 'm×k×n'.padEnd(16), ...names.map((n) => `${n} GF/s`.padStart(13))];
    if (both) head.push('native/js'.padStart(10));
    write(head.join(' ') + '\n');
  }
  const rows: KernelRow[] = [];
  let mismatches = 0;
  for (const c of kernelCases(flags.quick === true)) {
    const prepared = c.prepare();
    const runners = backends.map((b) => prepared.runner(b.be));
    const timing = timeInterleaved(
      runners.map((r) => r.run),
      plan,
    );
    const flops = 2 * c.m * c.k * c.n;
    const caseRows = backends.map((b, i): KernelRow => ({
      backend: b.name,
      op: c.op,
      m: c.m,
      k: c.k,
      n: c.n,
      gflops: flops / timing[i].median / 1e9,
      ms: timing[i].median * 1000,
      reps: timing[i].reps,
    }));
    rows.push(...caseRows);
    // Mod-P results must be bit-identical across backends (float32 may round differently).
    if (c.op.endsWith('modp')) {
      for (let i = 1; i < runners.length; i++) {
        if (!sameOutput(runners[0].out, runners[i].out)) {
          mismatches++;
          process.stderr.write(`goten bench kernels: ${c.op} ${c.m}×${c.k}×${c.n}: ${names[0]} and ${names[i]} disagree\n`);
        }
      }
    }
    if (flags.json) {
      for (const r of caseRows) write(JSON.stringify({ ...r, gflops: +r.gflops.toFixed(3), ms: +r.ms.toFixed(3) }) + '\n');
    } else {
      const cells = [c.op.padEnd(12), `${c.m}×${c.k}×${c.n}`.padEnd(16), ...caseRows.map((r) => fmt(r.gflops).padStart(13))];
      if (both) cells.push(`${fmt(ratio(caseRows, c.op, c.m, c.k, c.n) ?? NaN)}×`.padStart(10));
      write(cells.join(' ') + '\n');
    }
  }
  const r1024 = ratio(rows, 'gemm-modp', 1024, 1024, 1024);
  if (flags.json) {
    write(
      JSON.stringify({ summary: 'native/js', op: 'gemm-modp', m: 1024, k: 1024, n: 1024, ratio: r1024 === undefined ? null : +r1024.toFixed(2) }) +
        '\n',
    );
  } else if (r1024 !== undefined) {
    write(`\nnative/js on mod-P GEMM 1024³: ${r1024.toFixed(1)}×\n`);
  }
  if (mismatches > 0) throw new Error(`${mismatches} mod-P result(s) differ between backends`);
  return rows;
}

function ratio(rows: readonly KernelRow[], op: KernelOp, m: number, k: number, n: number): number | undefined {
  const pick = (b: string) => rows.find((r) => r.backend === b && r.op === op && r.m === m && r.k === k && r.n === n);
  const nat = pick('native');
  const js = pick('js');
  return nat && js ? nat.gflops / js.gflops : undefined;
}

export function register(bench: Command): void {
  bench
    .command('kernels')
    .description('GFLOP/s of each backend: mod-P and float32 GEMM (512³, 1024³, 2048³, 256×4608×512) and the VGG conv')
    .option('--json', 'one JSON object per line instead of a table')
    .option('--backends <list>', 'comma-separated backends to compare', 'js,native')
    .option('--quick', 'skip 2048³ and time fewer repetitions')
    .option('--threads <n>', 'BLAS threads of the native backend (default: OpenBLAS default, all cores)')
    .action(async (flags: KernelFlags) => {
      await runKernelBench(flags);
    });
}
