/**
 * `goten bench memory [--model vgg11] [--batch 32] [--mode pure-enclave] [--memory-budget 90]
 *   [--backing file|memory] [--runs baseline,unmanaged,managed] [--steps 1] [--warmup 1] [--json]`
 *
 * Peak resident memory (RSS) of the enclave process during a training step, against the budget for
 * managed tensor memory plus what stays outside it: the fixed tensor state (parameters, gradients,
 * optimizer state, BN buffers, executor pool, native GEMM workspace) and the runtime's own footprint
 * (a bare process with the project loaded). Each run is a child process of its own (memory-run.ts), so
 * every peak belongs to one configuration. In the secure modes the workers are separate processes and
 * are not part of the enclave's RSS. With --json, stdout carries one JSON object per run.
 */
import { spawnSync } from 'node:child_process';
import { type Command, Option } from 'commander';
import { getBackend, nativeAvailability } from '../src/backend/index.js';
import { loadNativeAddon } from '../src/addon/addon.js';
import { mib } from '../src/tee/memory-budget.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../src/tee/provider.js';
import { baselineRun, measureRun, type MemoryRun, type RunKind } from './memory-run.js';
import { int } from './options.js';
import { STEP_MODES, type StepMode } from './step-modes.js';

interface MemoryFlags {
  model: string;
  batch: string;
  mode: string;
  memoryBudget: string;
  backing: string;
  runs: string;
  steps: string;
  warmup: string;
  seed: string;
  gc?: boolean;
  json?: boolean;
  child?: string;
}

const KINDS: readonly RunKind[] = ['baseline', 'unmanaged', 'managed'];

function budgetBytes(s: string): number {
  const v = Number(s);
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`--memory-budget must be a positive number of MiB, got '${s}'`);
  return Math.round(v * 1024 * 1024);
}

/** Runs one configuration in this process and prints its JSON line (the child side). */
async function child(kind: RunKind, f: MemoryFlags): Promise<void> {
  const backend = getBackend('auto');
  const addon = loadNativeAddon();
  if (addon.ok) addon.addon.setThreads(1);
  if (kind === 'baseline') {
    process.stdout.write(JSON.stringify(baselineRun(f.model)) + '\n');
    return;
  }
  if (!(STEP_MODES as readonly string[]).includes(f.mode)) throw new RangeError(`--mode must be one of ${STEP_MODES.join(', ')}, got '${f.mode}'`);
  if (f.backing !== 'file' && f.backing !== 'memory') throw new RangeError(`--backing must be file or memory, got '${f.backing}'`);
  const r = await measureRun({
    kind,
    mode: f.mode as StepMode,
    model: f.model,
    batch: int(f.batch, '--batch', 1),
    budgetBytes: budgetBytes(f.memoryBudget),
    backing: f.backing,
    collect: f.gc === true,
    steps: int(f.steps, '--steps', 1),
    warmup: int(f.warmup, '--warmup', 0),
    seed: int(f.seed, '--seed', 0),
    backend,
  });
  process.stdout.write(JSON.stringify(r) + '\n');
}

/** Spawns this command again as a child for one run and parses its JSON line. */
function spawnRun(kind: RunKind, f: MemoryFlags): MemoryRun {
  const args = [...(f.gc ? ['--expose-gc'] : []), ...process.execArgv, process.argv[1], 'bench', 'memory', '--child', kind];
  for (const k of ['model', 'batch', 'mode', 'memoryBudget', 'backing', 'steps', 'warmup', 'seed'] as const) {
    args.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, f[k]);
  }
  if (f.gc) args.push('--gc');
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`bench memory: the '${kind}' run failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(line) as MemoryRun;
}

function printTable(rs: MemoryRun[]): void {
  const base = rs.find((r) => r.kind === 'baseline');
  const pad = (s: string, n: number) => s.padStart(n);
  const M = (b: number | null | undefined) => (b === null || b === undefined ? '–' : mib(b));
  process.stdout.write(`${'run'.padEnd(10)}${pad('peak RSS', 10)}${pad('−runtime', 10)}${pad('managed pk', 12)}${pad('fixed', 9)}${pad('offload/step', 14)}${pad('seal+unseal', 13)}${pad('step', 9)}\n`);
  process.stdout.write(`${''.padEnd(10)}${pad('MiB', 10)}${pad('MiB', 10)}${pad('MiB', 12)}${pad('MiB', 9)}${pad('MiB', 14)}${pad('ms', 13)}${pad('ms', 9)}\n`);
  for (const r of rs) {
    const fixed = Object.values(r.fixed).reduce((a, b) => a + b, 0);
    const wall = r.wallMsPerStep.length ? r.wallMsPerStep.reduce((a, b) => a + b, 0) / r.wallMsPerStep.length : null;
    process.stdout.write(
      `${r.kind.padEnd(10)}${pad(mib(r.peakRss), 10)}${pad(base && r !== base ? mib(r.peakRss - base.peakRss) : '–', 10)}` +
        `${pad(M(r.managedPeak), 12)}${pad(r.kind === 'baseline' ? '–' : mib(fixed), 9)}` +
        `${pad(r.offload ? `${mib(r.offload.bytes)} (${r.offload.chunks})` : '–', 14)}` +
        `${pad(r.offload ? (r.offload.sealMs + r.offload.unsealMs).toFixed(0) : '–', 13)}${pad(wall === null ? '–' : wall.toFixed(0), 9)}\n`,
    );
  }
  const m = rs.find((r) => r.kind === 'managed') ?? rs.find((r) => r.kind === 'unmanaged');
  if (m) {
    process.stdout.write(`fixed (MiB): ${Object.entries(m.fixed).map(([k, v]) => `${k} ${mib(v)}`).join(', ')}\n`);
    if (!m.hwmReset) process.stdout.write('note: /proc/self/clear_refs was not writable: peaks include set-up\n');
  }
  const man = rs.find((r) => r.kind === 'managed');
  if (man && base && man.budgetBytes !== null) {
    const total = man.totalPeak ?? 0;
    const bound = man.budgetBytes + base.peakRss;
    const heap = man.usageAtMax ? man.usageAtMax.heapTotal - (base.usageAtMax?.heapTotal ?? 0) : null;
    process.stdout.write(
      `managed: tensor memory (managed + fixed) peaked at ${mib(total)} of ${mib(man.budgetBytes)} MiB ` +
        `(${man.overBudgetEvents ? `ABOVE the budget ${man.overBudgetEvents}×` : 'never above the budget'}); ` +
        `peak RSS ${mib(man.peakRss)} MiB against budget + runtime = ${mib(man.budgetBytes)} + ${mib(base.peakRss)} = ${mib(bound)} MiB ` +
        `(${man.peakRss <= bound ? 'within' : `+${mib(man.peakRss - bound)}`}${heap === null ? '' : `; V8 heap ${heap >= 0 ? '+' : '−'}${mib(Math.abs(heap))} against the bare runtime`})\n`,
    );
  }
}

async function run(f: MemoryFlags): Promise<void> {
  if (f.child !== undefined) {
    if (!(KINDS as readonly string[]).includes(f.child)) throw new RangeError(`--child must be one of ${KINDS.join(', ')}`);
    return child(f.child as RunKind, f);
  }
  const kinds = f.runs.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kinds) if (!(KINDS as readonly string[]).includes(k)) throw new RangeError(`--runs: unknown run '${k}' (expected ${KINDS.join(', ')})`);
  budgetBytes(f.memoryBudget);
  const nat = nativeAvailability();
  process.stderr.write(
    `bench memory: ${f.model}, batch ${f.batch}, mode ${f.mode}, budget ${f.memoryBudget} MiB, sealed chunks to ${f.backing}${f.gc ? ', gc after sealing' : ''}; ` +
      `${f.warmup} warm-up + ${f.steps} measured step(s) per run, one child process per run; backend ${nat.available ? 'native' : 'js'}\n`,
  );
  const results: MemoryRun[] = [];
  for (const k of kinds) {
    const t0 = performance.now();
    const r = spawnRun(k as RunKind, f);
    results.push(r);
    if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
    process.stderr.write(`  ${k}: peak RSS ${mib(r.peakRss)} MiB (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  if (!f.json) printTable(results);
}

export function register(bench: Command): void {
  bench
    .command('memory')
    .description('peak RSS of the enclave process in a training step: bare runtime, private layer buffers, managed memory at a budget')
    .option('--model <name>', 'built-in model', 'vgg11')
    .option('--batch <n>', 'batch size', '32')
    .option('--mode <mode>', `execution mode (${STEP_MODES.join(', ')})`, 'pure-enclave')
    .option('--memory-budget <MiB>', 'budget for managed tensor memory', String(DEFAULT_MEMORY_BUDGET_BYTES / (1024 * 1024)))
    .option('--backing <where>', 'where sealed chunks go: file (a temp dir, outside this process) or memory (host memory of this process)', 'file')
    .option('--runs <list>', 'comma-separated runs', KINDS.join(','))
    .option('--steps <n>', 'measured steps per run', '1')
    .option('--warmup <n>', 'warm-up steps per run (sizes every buffer; not measured)', '1')
    .option('--seed <n>', 'seed of model and data', '1')
    .option('--gc', 'managed run: collect garbage after every sealing/unsealing burst (children run with --expose-gc)', false)
    .option('--json', 'one JSON object per run on stdout', false)
    .addOption(new Option('--child <kind>', 'internal: run one configuration in this process').hideHelp())
    .action((f: MemoryFlags) => run(f));
}
