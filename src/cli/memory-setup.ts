/**
 * `--memory-budget [MiB]` and `--offload-dir <dir>` of `goten train` (docs/memory.md).
 *
 * Off by default: each layer keeps its own buffers, nothing is sealed — the behaviour every existing run
 * and benchmark was measured with. Given without a value, the budget is 90 MiB (the usable SGX1 EPC).
 * The budget bounds the enclave's tensor memory: pooled layer buffers and saved tensors, and the parameters,
 * gradients and optimizer state, which are sealed out between uses and unsealed per layer into pooled
 * buffers (the optimizer update runs inside backward). Executor/backend workspaces are counted and
 * reported but stay resident.
 * It never changes results: a run with and without it is bit-identical, so it is not part of the
 * checkpoint's hyper-parameters and may differ on --resume.
 */
import type { Command } from 'commander';
import { ManagedMemory } from '../nn/memory/index.js';
import type { SequentialModel } from '../nn/model.js';
import type { Optimizer } from '../nn/optim.js';
import { defaultPool } from '../net/pool.js';
import { FileBacking, MemoryBacking } from '../tee/chunk-store.js';
import { mib } from '../tee/memory-budget.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from '../tee/provider.js';

export interface MemoryFlags {
  /** true when given without a value (default budget), the MiB string otherwise. */
  memoryBudget?: string | true;
  offloadDir?: string;
}

export function addMemoryOptions(cmd: Command): Command {
  return cmd
    .option('--memory-budget [MiB]', 'keep the enclave\'s tensor memory within this budget: parameters and optimizer state sealed out between uses, saved tensors when needed (default 90 MiB when given without a value; off unless given)')
    .option('--offload-dir <dir>', 'with --memory-budget: write sealed chunks to files in <dir> instead of host memory');
}

/** The budget in bytes, or null when managed memory is off. */
export function parseMemoryBudget(f: MemoryFlags): number | null {
  if (f.memoryBudget === undefined) {
    if (f.offloadDir !== undefined) throw new Error('--offload-dir needs --memory-budget');
    return null;
  }
  if (f.memoryBudget === true) return DEFAULT_MEMORY_BUDGET_BYTES;
  const v = Number(f.memoryBudget);
  if (f.memoryBudget.trim() === '' || !Number.isFinite(v) || v <= 0) {
    throw new Error(`--memory-budget must be a positive number of MiB, got '${f.memoryBudget}'`);
  }
  return Math.round(v * 1024 * 1024);
}

/** Attaches a memory manager to the model when --memory-budget is given; returns it (or null). */
export async function setUpMemory(f: MemoryFlags, model: SequentialModel, optimizer: Optimizer, backend: unknown): Promise<ManagedMemory | null> {
  const budgetBytes = parseMemoryBudget(f);
  if (budgetBytes === null) return null;
  const backing = f.offloadDir === undefined ? new MemoryBacking() : new FileBacking(f.offloadDir);
  // under `node --expose-gc`, transient sealing/unsealing buffers are collected right away (docs/memory.md)
  const gc = (globalThis as { gc?: () => void }).gc;
  const mem = new ManagedMemory({ budgetBytes, backing, collect: typeof gc === 'function' ? () => gc() : undefined });
  model.attachMemory(mem);
  mem.attachOptimizer(optimizer);
  mem.track({ backend, transport: defaultPool });
  // the initial weights were built in plain arrays; the run's peaks start once they are sealed out
  await mem.sealParameters();
  mem.budget.resetPeaks();
  return mem;
}

/** The end-of-run line: what the budget held, what was sealed out, what stayed resident outside it. */
export function memorySummary(mem: ManagedMemory): string {
  const r = mem.report();
  const c = r.categories;
  const over = r.overBudgetEvents > 0 ? `, above it ${r.overBudgetEvents}× (a layer's working set or an evaluation batch did not fit)` : '';
  return (
    `memory: tensor memory peak ${mib(r.totalPeak)} of ${mib(r.budgetBytes)} MiB budget (managed ${mib(r.managed.peak)}, fixed ${mib(r.fixed.peak)})${over}; ` +
    `sealed out ${mib(r.store.offloadedBytes)} MiB in ${r.store.chunksWritten} chunks over ${r.steps} steps; ` +
    (r.parameters === null
      ? ''
      : `parameters and optimizer state sealed at rest (${r.parameters.chunks} chunks; ${mib(r.parameters.sealedBytes)} MiB sealed, ` +
        `${mib(r.parameters.unsealedBytes)} MiB unsealed in total; resident outside the pool only while a checkpoint is written or read); `) +
    `fixed (counted, not offloaded) ${mib(r.fixed.peak)} MiB (parameters ${mib(c.parameters.peak)}, gradients ${mib(c.gradients.peak)}, ` +
    `optimizer ${mib(c.optimizer.peak)}, executor ${mib(c.executor.peak)}, native workspace ${mib(c.backend.peak)}, ` +
    `transport buffers ${mib(c.transport.peak)})`
  );
}
