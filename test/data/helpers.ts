/** Shared test helpers for the data tests. */
import { makeSplit, type ImageShape, type Split } from '../../src/data/dataset.js';
export * from '../../src/data/index.js';

/** n one-pixel-per-channel images whose byte value equals the label (or given pixels). */
export function makeSplitForTest(n: number, shape: ImageShape = [1, 2, 2], pixels?: number[]): Split {
  const per = shape[0] * shape[1] * shape[2];
  const images = new Uint8Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i;
    images.fill(i, i * per, (i + 1) * per);
  }
  if (pixels) images.set(pixels);
  return makeSplit(images, labels, shape, 'test split');
}
