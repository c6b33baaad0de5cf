/**
 * Batches concurrent prediction queries into forward passes of at most `maxBatch` inputs.
 *
 * Queries wait in a FIFO; one drain loop at a time takes whole queries from the head while they fit (a query
 * larger than `maxBatch` is split across passes of its own; two models are never mixed in one pass), runs ONE forward pass (the model and its
 * executor are not re-entrant), and scatters the logits back. A short window (`windowMs`) after the first
 * query lets concurrent ones join. The queue is bounded (`maxQueuedInputs`): beyond it a query is refused
 * with 429 instead of growing enclave memory. A failed pass rejects only the queries in it.
 */
import { HttpError } from './http-util.js';
import { forwardLogits, type InferenceModel, inputSize } from '../nn/inference.js';

interface Pending {
  model: InferenceModel;
  values: Float32Array;
  count: number;
  /** inputs already taken into a pass */
  taken: number;
  done: number;
  logits: Float32Array;
  failed: boolean;
  resolve(l: Float32Array): void;
  reject(e: Error): void;
}

export interface BatcherOptions {
  maxBatch: number;
  maxQueuedInputs: number;
  windowMs?: number;
}

export class PredictionBatcher {
  private readonly queue: Pending[] = [];
  private queued = 0;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  /** forward passes run and inputs classified (service statistics) */
  passes = 0;
  inputs = 0;

  constructor(private readonly o: BatcherOptions) {
    if (!Number.isSafeInteger(o.maxBatch) || o.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
  }

  /** Logits [count, K] of normalised inputs, computed in some batch with other queries. */
  submit(model: InferenceModel, normalized: Float32Array, count: number): Promise<Float32Array> {
    if (this.queued + count > this.o.maxQueuedInputs) {
      return Promise.reject(new HttpError(429, 'BUSY', `the prediction queue is full (${this.queued} inputs waiting); retry later`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ model, values: normalized, count, taken: 0, done: 0, logits: new Float32Array(count * model.numClasses), failed: false, resolve, reject });
      this.queued += count;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, this.o.windowMs ?? 2);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.pass();
    } finally {
      this.running = false;
    }
  }

  private async pass(): Promise<void> {
    const model = this.queue[0].model;
    const per = inputSize(model);
    const k = model.numClasses;
    const parts: { p: Pending; from: number; n: number }[] = [];
    let n = 0;
    for (const p of this.queue) {
      if (n === this.o.maxBatch) break;
      if (p.model !== model) break;
      // a query joins a non-empty pass only whole: its inputs then finish together
      if (n > 0 && p.count - p.taken > this.o.maxBatch - n) break;
      const take = Math.min(p.count - p.taken, this.o.maxBatch - n);
      parts.push({ p, from: p.taken, n: take });
      p.taken += take;
      n += take;
    }
    while (this.queue.length > 0 && this.queue[0].taken === this.queue[0].count) this.queue.shift();
    this.queued -= n;
    const x = new Float32Array(n * per);
    let at = 0;
    for (const { p, from, n: m } of parts) {
      x.set(p.values.subarray(from * per, (from + m) * per), at * per);
      at += m;
    }
    let logits: Float32Array;
    try {
      logits = await forwardLogits(model, x, n);
    } catch (err) {
      for (const { p } of parts) {
        if (!p.failed) {
          p.failed = true;
          p.reject(err as Error);
        }
      }
      // the rest of a failed query is not computed
      for (const { p } of parts) this.dropRest(p);
      return;
    }
    this.passes++;
    this.inputs += n;
    at = 0;
    for (const { p, from, n: m } of parts) {
      p.logits.set(logits.subarray(at * k, (at + m) * k), from * k);
      at += m;
      p.done += m;
      if (p.done === p.count && !p.failed) p.resolve(p.logits);
    }
  }

  private dropRest(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queued -= p.count - p.taken;
      this.queue.splice(i, 1);
    }
  }

  /** Rejects everything still waiting (service shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const p of this.queue.splice(0)) p.reject(new HttpError(503, 'SHUTTING_DOWN', 'the service is shutting down'));
    this.queued = 0;
  }
}
