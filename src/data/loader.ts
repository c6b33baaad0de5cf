/**
 * Batching: seeded shuffling, normalisation and (optionally) CIFAR-style
 * augmentation — random crop from the image zero-padded by `pad` pixels, then
 * a horizontal flip with probability 1/2 — fused into one pass that writes
 * each batch into the same reused Float32Array (fresh pages cost ~11 µs each
 * on these VMs; a reused batch buffer costs nothing).
 *
 * Resumability: the loader's state is (order-RNG state at the start of the
 * current epoch, augmentation-RNG state now, batches consumed this epoch). On
 * restore the epoch's permutation is regenerated from the saved state and the
 * cursor skips ahead, so the next batch is exactly the one an uninterrupted
 * run would have produced. Padding is zero in normalised units (the mean).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Split } from './dataset.js';
import type { ChannelStats } from './normalize.js';
import { DataRng, type DataRngState } from './random.js';

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle at every epoch (training); false walks the split in order (evaluation). */
  shuffle: boolean;
  /** Seed of the data-order and augmentation streams. */
  seed: number;
  norm: ChannelStats;
  /** Random crop + flip. */
  augment?: boolean;
  /** Crop padding in pixels (default 4). */
  pad?: number;
  /** Skip a final partial batch. */
  dropLast?: boolean;
}

export interface Batch {
  /** size×C×H×W normalised images; the underlying buffer is reused by the next batch. */
  readonly x: Tensor;
  /** size labels (also reused). */
  readonly labels: Int32Array;
  readonly size: number;
  /** Batch index within the epoch. */
  readonly index: number;
}

export interface LoaderState {
  readonly orderRng: DataRngState;
  readonly augRng: DataRngState;
  readonly position: number;
  readonly inEpoch: boolean;
}

export class BatchLoader {
  readonly batchesPerEpoch: number;
  private readonly order: Uint32Array;
  private readonly orderRng: DataRng;
  private readonly augRng: DataRng;
  private epochStart: DataRngState;
  private position = 0;
  private inEpoch = false;
  private readonly buf: Float32Array;
  private readonly labelBuf: Int32Array;
  private readonly views = new Map<number, { x: Tensor; labels: Int32Array }>();
  private readonly scale: Float32Array;
  private readonly shift: Float32Array;

  constructor(
    readonly split: Split,
    readonly opts: LoaderOptions,
  ) {
    const { batchSize } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    if (split.count === 0) throw new Error('cannot batch an empty split');
    const [C, H, W] = split.shape;
    if (opts.norm.mean.length !== C) throw new Error(`normalisation has ${opts.norm.mean.length} channels, data has ${C}`);
    this.batchesPerEpoch = opts.dropLast
      ? Math.max(1, Math.floor(split.count / batchSize))
      : Math.ceil(split.count / batchSize);
    this.order = new Uint32Array(split.count);
    this.orderRng = new DataRng(opts.seed, 1);
    this.augRng = new DataRng(opts.seed, 2);
    this.epochStart = this.orderRng.getState();
    const b = Math.min(batchSize, split.count);
    this.buf = new Float32Array(b * C * H * W);
    this.labelBuf = new Int32Array(b);
    // x' = v·scale_c + shift_c  with scale_c = s/std_c, shift_c = −mean_c/std_c
    this.scale = Float32Array.from(opts.norm.std, (sd) => split.scale / sd);
    this.shift = Float32Array.from(opts.norm.mean, (m, c) => -m / opts.norm.std[c]);
  }

  /** Starts an epoch: draws the permutation (or resets to identity order). */
  beginEpoch(): void {
    this.epochStart = this.orderRng.getState();
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    if (this.opts.shuffle) this.orderRng.shuffle(this.order);
    this.position = 0;
    this.inEpoch = true;
  }

  /** The next batch of the current epoch, or null when the epoch is done. */
  next(): Batch | null {
    if (!this.inEpoch) throw new Error('BatchLoader.next() before beginEpoch()');
    if (this.position >= this.batchesPerEpoch) {
      this.inEpoch = false;
      return null;
    }
    const start = this.position * this.opts.batchSize;
    const size = Math.min(this.opts.batchSize, this.split.count - start);
    const v = this.view(size);
    for (let i = 0; i < size; i++) {
      const src = this.order[start + i];
      v.labels[i] = this.split.labels[src];
      this.writeImage(src, i);
    }
    return { x: v.x, labels: v.labels, size, index: this.position++ };
  }

  getState(): LoaderState {
    const done = this.inEpoch && this.position >= this.batchesPerEpoch;
    return {
      // a finished epoch is saved as "not in an epoch", so a restore draws the next permutation
      orderRng: this.inEpoch && !done ? this.epochStart : this.orderRng.getState(),
      augRng: this.augRng.getState(),
      position: this.inEpoch && !done ? this.position : 0,
      inEpoch: this.inEpoch && !done,
    };
  }

  setState(s: LoaderState): void {
    this.orderRng.setState(s.orderRng);
    this.augRng.setState(s.augRng);
    this.inEpoch = false;
    this.position = 0;
    if (s.inEpoch) {
      if (!Number.isInteger(s.position) || s.position < 0 || s.position > this.batchesPerEpoch) {
        throw new Error(`loader position ${s.position} is outside an epoch of ${this.batchesPerEpoch} batches`);
      }
      this.beginEpoch();
      this.position = s.position;
    }
  }

  /** Whether an epoch is in progress (after a mid-epoch restore the trainer must not begin a new one). */
  get epochInProgress(): boolean {
    return this.inEpoch && this.position < this.batchesPerEpoch;
  }

  private view(size: number): { x: Tensor; labels: Int32Array } {
    let v = this.views.get(size);
    if (!v) {
      const [C, H, W] = this.split.shape;
      v = { x: new Tensor([size, C, H, W], this.buf.subarray(0, size * C * H * W)), labels: this.labelBuf.subarray(0, size) };
      this.views.set(size, v);
    }
    return v;
  }

  /** Normalises (and augments) sample `src` into batch slot `slot`. */
  private writeImage(src: number, slot: number): void {
    const [C, H, W] = this.split.shape;
    const hw = H * W;
    const img = this.split.images;
    const out = this.buf;
    if (!this.opts.augment) {
      for (let c = 0; c < C; c++) {
        const a = this.scale[c];
        const b = this.shift[c];
        const si = (src * C + c) * hw;
        const di = (slot * C + c) * hw;
        for (let i = 0; i < hw; i++) out[di + i] = img[si + i] * a + b;
      }
      return;
    }
    const pad = this.opts.pad ?? 4;
    const dy = this.augRng.int(2 * pad + 1) - pad;
    const dx = this.augRng.int(2 * pad + 1) - pad;
    const flip = this.augRng.int(2) === 1;
    for (let c = 0; c < C; c++) {
      const a = this.scale[c];
      const b = this.shift[c];
      const si = (src * C + c) * hw;
      const di = (slot * C + c) * hw;
      for (let y = 0; y < H; y++) {
        const sy = y + dy;
        const row = di + y * W;
        if (sy < 0 || sy >= H) {
          out.fill(0, row, row + W);
          continue;
        }
        const srow = si + sy * W;
        for (let x = 0; x < W; x++) {
          const sx = (flip ? W - 1 - x : x) + dx;
          out[row + x] = sx >= 0 && sx < W ? img[srow + sx] * a + b : 0;
        }
      }
    }
  }
}
