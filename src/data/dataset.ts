/**
 * In-memory data sets. Images stay in their source representation (raw bytes
 * for MNIST/CIFAR, floats for synthetic data) and are converted to normalised
 * float32 only one batch at a time, so a 60k-image set costs 47 MB, not 188 MB.
 */
export type ImageShape = [channels: number, height: number, width: number];

export interface Split {
  /** N×C×H×W row-major; bytes are scaled by `scale` (1/255) before normalisation. */
  readonly images: Uint8Array | Float32Array;
  /** N class indices in [0, numClasses). */
  readonly labels: Int32Array;
  readonly shape: ImageShape;
  /** Number of samples N. */
  readonly count: number;
  /** Multiplier that turns a stored value into a float in roughly [0, 1]. */
  readonly scale: number;
}

export interface Dataset {
  /** Canonical spec that reproduces this data set (stored in checkpoints). */
  readonly name: string;
  readonly train: Split;
  readonly test: Split;
  readonly numClasses: number;
  readonly inputShape: ImageShape;
  /** Suggested augmentation: random crop + flip for CIFAR. */
  readonly augment: boolean;
}

export interface LoadOptions {
  /** Use only the first n training samples. */
  limitTrain?: number;
  /** Use only the first n test samples. */
  limitTest?: number;
  /** Seed for synthetic data (real data ignores it). */
  seed?: number;
}

export function makeSplit(images: Uint8Array | Float32Array, labels: Int32Array, shape: ImageShape, what: string): Split {
  const per = shape[0] * shape[1] * shape[2];
  const count = labels.length;
  if (images.length !== count * per) {
    throw new Error(`${what}: ${count} labels but ${images.length / per} images of shape ${shape.join('×')}`);
  }
  return { images, labels, shape, count, scale: images instanceof Uint8Array ? 1 / 255 : 1 };
}

/** The first `n` samples of a split (views, no copy). */
export function limitSplit(s: Split, n: number | undefined): Split {
  if (n === undefined || n >= s.count) return s;
  if (!Number.isInteger(n) || n < 1) throw new Error(`limit must be a positive integer, got ${n}`);
  const per = s.shape[0] * s.shape[1] * s.shape[2];
  return { ...s, images: s.images.subarray(0, n * per), labels: s.labels.subarray(0, n), count: n };
}

/** Number of classes = largest label + 1 over both splits (at least `min`), with a range check. */
export function countClasses(train: Int32Array, test: Int32Array, min: number, what: string): number {
  let max = -1;
  for (const labels of [train, test]) {
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i];
      if (v < 0) throw new Error(`${what}: negative label ${v} at index ${i}`);
      if (v > max) max = v;
    }
  }
  return Math.max(max + 1, min);
}
