/**
 * `goten bench kernels [--json] [--backends js,native] [--quick] [--workspace list]`:
 * GFLOP/s of each backend for mod-P and float32 GEMM (512³, 1024³, 2048³,
 * 256×4608×512) and the three passes of the VGG conv (batch 32, 128→128, 16×16,
 * 3×3, pad 1; mod P also 512→512 at 4×4), measured side by side.
 *
 * `--workspace 16,none` runs the native backend once per workspace limit (MiB, or
 * `none`), as backends `native@16MiB`, `native@none`, interleaved in one process,
 * and adds the ratio of each to the first limit (`none/16MiB`-style columns). The
 * limits share the thread's workspace, so each timed call follows an untimed one.
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
import { int } from './options.js';

interface KernelFlags {
  readonly json?: boolean;
  readonly backends: string;
  readonly quick?: boolean;
  readonly threads?: string;
  readonly workspace?: string;
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

/** A workspace limit of --workspace: MiB (fractions allowed) or `none`. */
interface WorkspaceLimit {
  readonly label: string;
  readonly bytes: number;
}

function parseWorkspace(list: string): WorkspaceLimit[] {
  const items = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new RangeError('--workspace: give at least one limit in MiB, or none');
  return items.map((item) => {
    if (item === 'none') return { label: 'none', bytes: Infinity };
    const mib = Number(item);
    if (!Number.isFinite(mib) || mib < 0) throw new RangeError(`--workspace: expected MiB >= 0 or 'none', got '${item}'`);
    return { label: `${item}MiB`, bytes: Math.round(mib * 2 ** 20) };
  });
}

interface Opened {
  /** Column name: js, native, or native@<limit>. */
  readonly name: string;
  readonly kind: Known;
  readonly be: Backend;
}

/**
 * Available backends among the requested ones (the unavailable are reported on
 * stderr and skipped); native once per workspace limit when limits are given.
 */
function openBackends(names: readonly Known[], limits: readonly WorkspaceLimit[] | undefined, threads: number | undefined): Opened[] {
  const out: Opened[] = [];
  for (const name of names) {
    if (name === 'js') {
      out.push({ name, kind: name, be: getBackend(name) });
      continue;
    }
    const a = nativeAvailability();
    if (!a.available) {
      process.stderr.write(`goten bench kernels: skipping native: ${a.reason}\n`);
      continue;
    }
    if (limits === undefined) {
      out.push({ name, kind: name, be: getBackend(name) });
    } else {
      for (const l of limits) out.push({ name: `native@${l.label}`, kind: name, be: createNativeBackend({ workspaceBytes: l.bytes }) });
    }
    const native = createNativeBackend();
    if (threads !== undefined) native.setThreads(threads);
    const info = native.info();
    process.stderr.write(`native: ${info.blas}, ${info.threads} thread(s) (${info.config})\n`);
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
  const limits = flags.workspace === undefined ? undefined : parseWorkspace(flags.workspace);
  const backends = openBackends(parseBackends(flags.backends), limits, flags.threads === undefined ? undefined : int(flags.threads, '--threads', 1));
  // Native backends with different limits share this thread's workspace: re-warm before each timed call.
  const plan = { ...(flags.quick ? QUICK_PLAN : FULL_PLAN), rewarm: limits !== undefined && limits.length > 1 };
  const names = backends.map((b) => b.name);
  // native/js uses the first native column; further native columns are divided by it.
  const firstNative = backends.find((b) => b.kind === 'native')?.name;
  const both = names.includes('js') && firstNative !== undefined;
  const others = backends.filter((b) => b.kind === 'native' && b.name !== firstNative).map((b) => b.name);
  const write = (s: string): boolean => process.stdout.write(s);
  // The machine may be shared: the load average tells how far to trust absolute numbers
  // (ratios are measured interleaved and suffer less).
  process.stderr.write(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  if (!flags.json) {
    const head = ['op'.padEnd(14), 'm×k×n'.padEnd(16), ...names.map((n) => `${n} GF/s`.padStart(13))];
    if (both) head.push('native/js'.padStart(10));
    for (const o of others) head.push(`${suffix(o)}/${suffix(firstNative ?? '')}`.padStart(12));
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
      const cells = [c.op.padEnd(14), `${c.m}×${c.k}×${c.n}`.padEnd(16), ...caseRows.map((r) => fmt(r.gflops).padStart(13))];
      if (both) cells.push(`${fmt(ratio(caseRows, c.op, c.m, c.k, c.n, firstNative ?? '', 'js') ?? NaN)}×`.padStart(10));
      for (const o of others) cells.push(`${(ratio(caseRows, c.op, c.m, c.k, c.n, o, firstNative ?? '') ?? NaN).toFixed(3)}×`.padStart(12));
      write(cells.join(' ') + '\n');
    }
    if (flags.json) {
      for (const o of others) {
        const r = ratio(caseRows, c.op, c.m, c.k, c.n, o, firstNative ?? '');
        write(JSON.stringify({ summary: `${o}/${firstNative}`, op: c.op, m: c.m, k: c.k, n: c.n, ratio: r === undefined ? null : +r.toFixed(3) }) + '\n');
      }
    }
  }
  const r1024 = ratio(rows, 'gemm-modp', 1024, 1024, 1024, firstNative ?? '', 'js');
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

/** GFLOP/s of backend `num` over backend `den` on one case. */
function ratio(rows: readonly KernelRow[], op: KernelOp, m: number, k: number, n: number, num: string, den: string): number | undefined {
  const pick = (b: string) => rows.find((r) => r.backend === b && r.op === op && r.m === m && r.k === k && r.n === n);
  const a = pick(num);
  const b = pick(den);
  return a && b ? a.gflops / b.gflops : undefined;
}

/** `native@16MiB` → `16MiB` (the column label of a workspace ratio). */
function suffix(name: string): string {
  return name.includes('@') ? name.slice(name.indexOf('@') + 1) : name;
}

export function register(bench: Command): void {
  bench
    .command('kernels')
    .description('GFLOP/s of each backend: mod-P and float32 GEMM (512³, 1024³, 2048³, 256×4608×512) and the VGG conv passes')
    .option('--json', 'one JSON object per line instead of a table')
    .option('--backends <list>', 'comma-separated backends to compare', 'js,native')
    .option('--quick', 'skip 2048³ and time fewer repetitions')
    .option('--threads <n>', 'BLAS threads of the native backend (default: OpenBLAS default, all cores)')
    .option('--workspace <list>', 'native workspace limits to compare, MiB or none (e.g. 16,none); default: one native backend at its default')
    .action(async (flags: KernelFlags) => {
      await runKernelBench(flags);
    });
}
