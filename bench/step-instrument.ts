/**
 * Per-layer timers for `goten bench step` (the paper's Table 3 split): a timing
 * wrapper around the model's LinearExecutor and wrappers around every top-level
 * layer's forward/backward. Installed only by the benchmark, so training and
 * tests run without them.
 *
 * For a layer call of total time T during which the executor spent L in linear
 * ops (conv/linear products, any mode), the layer's row gets L as "linear" and
 * T − L as "non-linear" (bias, BN, ReLU, pooling, …). Times are kept twice: wall
 * clock, and this process's CPU time (process.cpuUsage: user + system, all
 * threads) — the latter is what an enclave pays.
 */
import type { BilinearOp } from '../src/backend/bilinear.js';
import { DelegatingExecutor, type LinearExecutor, type OpTag, type RunOptions } from '../src/nn/executor.js';
import type { SequentialModel } from '../src/nn/model.js';

export interface Span {
  wallMs: number;
  cpuMs: number;
}

export interface LayerRow {
  layer: string;
  type: string;
  fwdLinear: Span;
  fwdNonLinear: Span;
  bwdLinear: Span;
  bwdNonLinear: Span;
}

function span(): Span {
  return { wallMs: 0, cpuMs: 0 };
}

export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU ms of one call of f (this process, all threads). */
export function cpuMsOf(f: () => void): number {
  const t0 = cpuNowMs();
  f();
  return cpuNowMs() - t0;
}

/** The middle value (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[s.length >> 1];
}

/** Wall and CPU clocks read together. */
export function now(): Span {
  return { wallMs: performance.now(), cpuMs: cpuNowMs() };
}

export function since(t0: Span): Span {
  const t = now();
  return { wallMs: t.wallMs - t0.wallMs, cpuMs: t.cpuMs - t0.cpuMs };
}

function add(into: Span, d: Span, sign = 1): void {
  into.wallMs += sign * d.wallMs;
  into.cpuMs += sign * d.cpuMs;
}

/** Wraps an executor; accumulates the time of every linear op. */
export class TimingExecutor extends DelegatingExecutor {
  /** Linear time so far (all ops), read by the layer wrappers. */
  readonly total = span();
  override async run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts?: RunOptions): Promise<void> {
    const t0 = now();
    await this.inner.run(op, tag, a, b, c, opts);
    add(this.total, since(t0));
  }
}

/** Per-layer rows of the current measurement window. */
export class LayerTimers {
  readonly rows: LayerRow[];
  readonly #byName = new Map<string, LayerRow>();

  /** Wraps every top-level layer of `model`, whose executor must be `timing`. */
  constructor(model: SequentialModel, readonly timing: TimingExecutor) {
    this.rows = model.layers.map((l) => ({ layer: l.name, type: l.type, fwdLinear: span(), fwdNonLinear: span(), bwdLinear: span(), bwdNonLinear: span() }));
    model.layers.forEach((l, i) => {
      const row = this.rows[i];
      this.#byName.set(l.name, row);
      const fwd = l.forward.bind(l);
      const bwd = l.backward.bind(l);
      const wrap =
        <A extends unknown[], R>(f: (...a: A) => R | Promise<R>, lin: Span, nonLin: Span) =>
        async (...args: A): Promise<R> => {
          const lin0 = { ...this.timing.total };
          const t0 = now();
          const r = await f(...args);
          const total = since(t0);
          const linD = { wallMs: this.timing.total.wallMs - lin0.wallMs, cpuMs: this.timing.total.cpuMs - lin0.cpuMs };
          add(lin, linD);
          add(nonLin, total);
          add(nonLin, linD, -1);
          return r;
        };
      Object.assign(l, { forward: wrap(fwd, row.fwdLinear, row.fwdNonLinear), backward: wrap(bwd, row.bwdLinear, row.bwdNonLinear) });
    });
  }

  reset(): void {
    for (const r of this.rows) for (const s of [r.fwdLinear, r.fwdNonLinear, r.bwdLinear, r.bwdNonLinear]) Object.assign(s, span());
  }

  /** Sums over layers: linear and non-linear, wall and CPU. */
  totals(): { linear: Span; nonLinear: Span } {
    const linear = span();
    const nonLinear = span();
    for (const r of this.rows) {
      add(linear, r.fwdLinear);
      add(linear, r.bwdLinear);
      add(nonLinear, r.fwdNonLinear);
      add(nonLinear, r.bwdNonLinear);
    }
    return { linear, nonLinear };
  }
}
