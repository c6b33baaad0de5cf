/**
 * The enclave's memory accountant: how many bytes of tensor data are resident inside the TEE, by category,
 * with the peak of each, against a budget (default 90 MiB, the usable SGX1 EPC; docs/memory.md).
 *
 * Two kinds of categories, because they are handled differently (docs/memory.md):
 *
 * - **managed** — memory the activation manager (src/nn/memory) controls and keeps within the budget by
 *   sealing saved tensors out to untrusted storage: its pooled buffers (layer outputs, gradients, saved
 *   tensors kept resident, temporaries, free buffers kept for reuse) and saved tensors that live in buffers
 *   it does not own (the input batch).
 * - **fixed** — memory that is counted and reported but never offloaded: parameters, their gradients,
 *   optimizer state, BatchNorm running statistics, the executor's per-op buffers and the transport's idle
 *   receive buffers where they are not leased from the managed pool (secure mode; ~0 once the executor is
 *   attached to it), the native backend's GEMM workspace. Those are set from measurements (`setFixed`),
 *   not charged per allocation.
 *
 * The budget bounds the sum of both (all of the enclave's tensor memory): `fits()` answers for managed +
 * fixed, and an excursion of that sum above the budget is what `overBudgetEvents` counts. The manager
 * therefore keeps managed memory within the budget minus whatever fixed memory is resident.
 *
 * The accountant only counts; it never refuses an allocation. Whoever allocates asks `fits()` first and
 * decides (spill, evict, or allocate anyway and let the report show the overshoot), so a wrong estimate
 * shows up as a peak above the budget instead of a crash in the middle of a training step.
 */
import { DEFAULT_MEMORY_BUDGET_BYTES } from './provider.js';

export const MANAGED_CATEGORIES = ['pool', 'saved-external'] as const;
export const FIXED_CATEGORIES = ['parameters', 'gradients', 'optimizer', 'buffers', 'executor', 'backend', 'transport'] as const;

export type ManagedCategory = (typeof MANAGED_CATEGORIES)[number];
export type FixedCategory = (typeof FIXED_CATEGORIES)[number];
export type MemoryCategory = ManagedCategory | FixedCategory;

export interface CategoryUsage {
  current: number;
  peak: number;
}

export interface MemoryReport {
  budgetBytes: number;
  /** Managed bytes now and at their peak (the part the manager controls). */
  managed: CategoryUsage;
  /** Fixed (counted, not offloaded) bytes now and at their peak. */
  fixed: CategoryUsage;
  /** Peak of managed + fixed. */
  totalPeak: number;
  /** How many times managed + fixed went above the budget (0 when the manager kept it inside). */
  overBudgetEvents: number;
  categories: Record<MemoryCategory, CategoryUsage>;
}

export class MemoryBudget {
  readonly budgetBytes: number;
  private readonly cur = new Map<MemoryCategory, number>();
  private readonly pk = new Map<MemoryCategory, number>();
  private managedNow = 0;
  private managedPeak = 0;
  private fixedNow = 0;
  private fixedPeak = 0;
  private totalPeak = 0;
  private over = 0;

  constructor(budgetBytes: number = DEFAULT_MEMORY_BUDGET_BYTES) {
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes <= 0) {
      throw new RangeError(`memory budget must be a positive whole number of bytes, got ${budgetBytes}`);
    }
    this.budgetBytes = budgetBytes;
    for (const c of [...MANAGED_CATEGORIES, ...FIXED_CATEGORIES]) {
      this.cur.set(c, 0);
      this.pk.set(c, 0);
    }
  }

  /** Adds `delta` bytes (negative to release) to a managed category. */
  charge(cat: ManagedCategory, delta: number): void {
    const v = this.cur.get(cat)! + delta;
    if (v < 0) throw new Error(`memory accounting: category '${cat}' would go negative (${v} bytes); a buffer was released twice`);
    this.cur.set(cat, v);
    if (v > this.pk.get(cat)!) this.pk.set(cat, v);
    const wasOver = this.isOver();
    this.managedNow += delta;
    if (this.managedNow > this.managedPeak) this.managedPeak = this.managedNow;
    this.bumpTotal(wasOver);
  }

  /** Sets a fixed category to its measured size. */
  setFixed(cat: FixedCategory, bytes: number): void {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`memory accounting: '${cat}' cannot be ${bytes} bytes`);
    const wasOver = this.isOver();
    this.fixedNow += bytes - this.cur.get(cat)!;
    this.cur.set(cat, bytes);
    if (bytes > this.pk.get(cat)!) this.pk.set(cat, bytes);
    if (this.fixedNow > this.fixedPeak) this.fixedPeak = this.fixedNow;
    this.bumpTotal(wasOver);
  }

  /** The whole tensor memory — managed plus fixed — is what the budget bounds. */
  private isOver(): boolean {
    return this.managedNow + this.fixedNow > this.budgetBytes;
  }

  /** Updates the total's peak and counts a new excursion above the budget. */
  private bumpTotal(wasOver: boolean): void {
    const t = this.managedNow + this.fixedNow;
    if (t > this.totalPeak) this.totalPeak = t;
    if (!wasOver && this.isOver()) this.over++;
  }


  /** Managed bytes now. */
  get managed(): number {
    return this.managedNow;
  }

  /** Whether `extra` more managed bytes keep managed + fixed within the budget. */
  fits(extra: number): boolean {
    return this.managedNow + this.fixedNow + extra <= this.budgetBytes;
  }

  /** Fixed bytes now (what the manager must leave room for). */
  get fixed(): number {
    return this.fixedNow;
  }

  current(cat: MemoryCategory): number {
    return this.cur.get(cat)!;
  }

  /** Forgets the peaks (e.g. after a warm-up step), keeping the current values. */
  resetPeaks(): void {
    for (const [c, v] of this.cur) this.pk.set(c, v);
    this.managedPeak = this.managedNow;
    this.fixedPeak = this.fixedNow;
    this.totalPeak = this.managedNow + this.fixedNow;
    this.over = this.isOver() ? 1 : 0;
  }

  report(): MemoryReport {
    const categories = {} as Record<MemoryCategory, CategoryUsage>;
    for (const [c, v] of this.cur) categories[c] = { current: v, peak: this.pk.get(c)! };
    return {
      budgetBytes: this.budgetBytes,
      managed: { current: this.managedNow, peak: this.managedPeak },
      fixed: { current: this.fixedNow, peak: this.fixedPeak },
      totalPeak: this.totalPeak,
      overBudgetEvents: this.over,
      categories,
    };
  }
}

/** MiB with one decimal, for logs and tables. */
export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
