/**
 * One measurement of `goten bench memory`, run in a process of its own so that the kernel's peak-RSS
 * counter (VmHWM) belongs to exactly one configuration:
 *
 *   baseline   the runtime with the project loaded (CLI, every module, the native addon) and nothing else
 *   unmanaged  a training step with the layers' private buffers (the default of `goten train`)
 *   managed    the same step with the activation memory manager at a budget (src/nn/memory)
 *
 * A step is forward, loss, backward, SGD(momentum) update, on a random batch (no data set is loaded, so
 * none is resident). Managed runs seal parameters and momentum at rest, so the update runs inside backward. After the warm-up steps the peak counter is reset (/proc/self/clear_refs = 5) and
 * the measured steps run; VmHWM is then the peak RSS of those steps alone. RSS is also sampled at phase
 * boundaries (after forward, backward, update).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.js';
import { defaultPool } from '../src/net/pool.js';
import { type StepPhase, trainStep } from '../src/nn/train-step.js';
import { ManagedMemory } from '../src/nn/memory/index.js';
import { buildModel } from '../src/nn/models/index.js';
import { SGD } from '../src/nn/optim.js';
import { Rng } from '../src/nn/rng.js';
import { FileBacking, MemoryBacking } from '../src/tee/chunk-store.js';
import { Tensor } from '../src/tensor/tensor.js';
import { inputShape } from './options.js';
import { openMode, type StepMode } from './step-modes.js';

export type RunKind = 'baseline' | 'unmanaged' | 'managed';

export interface MemoryRun {
  bench: 'memory';
  kind: RunKind;
  mode: StepMode | null;
  model: string;
  batch: number;
  budgetBytes: number | null;
  backing: 'memory' | 'file' | null;
  /** Managed runs: whether garbage was collected after every sealing/unsealing burst (--gc). */
  collect: boolean;
  /** Peak RSS of the measured steps (VmHWM after the reset), and whether the reset worked. */
  peakRss: number;
  hwmReset: boolean;
  /** Largest RSS sampled at phase boundaries, and the RSS before the first step. */
  sampledMaxRss: number;
  rssBeforeSteps: number;
  /** process.memoryUsage() at the largest sample: V8 heap, external and ArrayBuffer bytes. */
  usageAtMax: NodeJS.MemoryUsage | null;
  /** Counted fixed memory: parameters, gradients, optimizer state, BN buffers, executor pool, native workspace, transport idle receive buffers. */
  fixed: Record<string, number>;
  /** Managed runs: the accountant's peak of managed bytes, and how often it exceeded the budget. */
  managedPeak: number | null;
  /** Managed runs: the accountant's peak of all tensor memory (managed + fixed), the quantity the budget bounds. */
  totalPeak: number | null;
  overBudgetEvents: number | null;
  /** Managed runs, per measured step: bytes sealed out (and streamed back), chunks, seal/unseal ms. */
  offload: { bytes: number; chunks: number; sealMs: number; unsealMs: number } | null;
  wallMsPerStep: number[];
}

export interface RunOptions {
  kind: RunKind;
  mode: StepMode;
  model: string;
  batch: number;
  budgetBytes: number;
  backing: 'memory' | 'file';
  collect: boolean;
  steps: number;
  warmup: number;
  seed: number;
  backend: Backend;
}

/** A field of /proc/self/status in bytes (kB there), or 0 where it does not exist. */
export function procStatusBytes(field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resets the kernel's peak-RSS counter of this process; false where that is not allowed. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function nativeScratch(backend: Backend): number {
  const b = backend as unknown as { info?(): { scratchBytes?: number } };
  const s = typeof b.info === 'function' ? b.info().scratchBytes : undefined;
  return typeof s === 'number' ? s : 0;
}

export function baselineRun(model: string): MemoryRun {
  return {
    bench: 'memory', kind: 'baseline', mode: null, model, batch: 0, budgetBytes: null, backing: null, collect: false,
    peakRss: procStatusBytes('VmHWM'), hwmReset: false, sampledMaxRss: process.memoryUsage.rss(), rssBeforeSteps: process.memoryUsage.rss(), usageAtMax: process.memoryUsage(),
    fixed: {}, managedPeak: null, totalPeak: null, overBudgetEvents: null, offload: null, wallMsPerStep: [],
  };
}

export async function measureRun(o: RunOptions): Promise<MemoryRun> {
  const rig = await openMode(o.mode, { backend: o.backend, seed: o.seed, transport: 'tcp' });
  const dir = o.kind === 'managed' && o.backing === 'file' ? mkdtempSync(join(tmpdir(), 'goten-offload-')) : null;
  try {
    const shape = inputShape(o.model);
    const model = buildModel(o.model, { inputShape: shape, numClasses: 10, seed: o.seed, executor: rig.executor });
    const gc = (globalThis as { gc?: () => void }).gc;
    if (o.collect && typeof gc !== 'function') throw new Error('--gc needs node --expose-gc');
    const collect = o.collect && o.kind === 'managed' ? gc : undefined;
    const mem = o.kind === 'managed' ? new ManagedMemory({ budgetBytes: o.budgetBytes, backing: dir ? new FileBacking(dir) : new MemoryBacking(), collect }) : null;
    if (mem) model.attachMemory(mem);
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    mem?.attachOptimizer(opt); // resident mode too: its state then counts as fixed memory
    mem?.track({ backend: o.backend, transport: defaultPool });
    const rng = new Rng(o.seed + 1);
    const x = new Tensor([o.batch, ...shape]);
    for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
    const labels = new Int32Array(o.batch).map(() => rng.int(10));
    let sampled = 0;
    let usageAtMax: NodeJS.MemoryUsage | null = null;
    const sample = (): void => {
      const u = process.memoryUsage();
      if (u.rss >= sampled) {
        sampled = u.rss;
        usageAtMax = u;
      }
    };
    const onPhase = (p: StepPhase): void => {
      if (p === 'forward' || p === 'backward' || p === 'end') sample();
    };
    const step = async (): Promise<void> => {
      await trainStep(model, opt, x, labels, { onPhase });
    };
    for (let s = 0; s < o.warmup; s++) await step();
    const offload0 = mem ? { ...mem.store.stats } : null;
    mem?.budget.resetPeaks();
    const rssBeforeSteps = process.memoryUsage.rss();
    sampled = rssBeforeSteps;
    const hwmReset = resetPeakRss();
    const wall: number[] = [];
    for (let s = 0; s < o.steps; s++) {
      const t0 = performance.now();
      await step();
      wall.push(performance.now() - t0);
    }
    const peakRss = procStatusBytes('VmHWM');
    const ps = model.parameters();
    const acc = mem?.report().categories; // sealed parameters: only what is resident (leased copies are pool)
    const fixed: Record<string, number> = {
      parameters: acc ? acc.parameters.current : ps.reduce((a, p) => a + p.value.byteLength, 0),
      gradients: acc ? acc.gradients.current : ps.reduce((a, p) => a + p.grad.byteLength, 0),
      optimizer: opt.stateBytes(),
      buffers: model.buffers().reduce((a, b) => a + b.value.byteLength, 0),
      executor: rig.executor.memoryBytes(),
      backend: nativeScratch(o.backend),
      transport: defaultPool.stats().retainedBytes,
    };
    const r = mem?.report();
    const st = mem?.store.stats;
    return {
      bench: 'memory', kind: o.kind, mode: o.mode, model: o.model, batch: o.batch,
      budgetBytes: mem ? o.budgetBytes : null, backing: mem ? o.backing : null, collect: collect !== undefined,
      peakRss, hwmReset, sampledMaxRss: sampled, rssBeforeSteps, usageAtMax, fixed,
      managedPeak: r ? r.managed.peak : null,
      totalPeak: r ? r.totalPeak : null,
      overBudgetEvents: r ? r.overBudgetEvents : null,
      offload: st && offload0 ? {
        bytes: (st.offloadedBytes - offload0.offloadedBytes) / o.steps,
        chunks: (st.chunksWritten - offload0.chunksWritten) / o.steps,
        sealMs: (st.sealMs - offload0.sealMs) / o.steps,
        unsealMs: (st.unsealMs - offload0.unsealMs) / o.steps,
      } : null,
      wallMsPerStep: wall,
    };
  } finally {
    await rig.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
