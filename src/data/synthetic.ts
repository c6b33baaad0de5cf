/**
 * Synthetic, learnable image classification data of any shape, from a seed.
 *
 * Class k has a fixed prototype: a sinusoidal grating (class-dependent
 * frequency, orientation and per-channel phase) plus a fixed random texture.
 * A sample is its class prototype times a random contrast in [0.75, 1.25]
 * plus i.i.d. Gaussian noise (σ = 0.5). Classes are therefore separable by a
 * linear model, yet not from any single pixel, and conv nets learn them in a
 * few steps — enough for loss-falls and resume tests without real data.
 */
import { type Dataset, type ImageShape, type LoadOptions, makeSplit, type Split } from './dataset.js';
import { DataRng } from './random.js';

export const SYNTHETIC_DEFAULT_TRAIN = 1024;
export const SYNTHETIC_DEFAULT_TEST = 256;

function prototypes(shape: ImageShape, classes: number, rng: DataRng): Float32Array[] {
  const [C, H, W] = shape;
  const out: Float32Array[] = [];
  for (let k = 0; k < classes; k++) {
    const p = new Float32Array(C * H * W);
    const freq = 1 + (k % 4) + rng.next();
    const angle = (Math.PI * k) / classes + rng.next() * 0.3;
    const fx = (freq * Math.cos(angle)) / W;
    const fy = (freq * Math.sin(angle)) / H;
    for (let c = 0; c < C; c++) {
      const phase = 2 * Math.PI * rng.next();
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const grating = Math.sin(2 * Math.PI * (fx * x + fy * y) + phase);
          p[(c * H + y) * W + x] = 0.7 * grating + 0.5 * rng.normal();
        }
      }
    }
    out.push(p);
  }
  return out;
}

function sample(protos: Float32Array[], shape: ImageShape, n: number, rng: DataRng, what: string): Split {
  const per = shape[0] * shape[1] * shape[2];
  if (n * per > SYNTHETIC_MAX_VALUES) {
    throw new RangeError(`${what}: ${n} samples of ${shape.join('×')} are ${(n * per * 4 / 2 ** 30).toFixed(1)} GiB, more than the ${SYNTHETIC_MAX_VALUES * 4 / 2 ** 30} GiB synthetic data may take; ask for fewer samples (--limit-train / --limit-test)`);
  }
  const images = new Float32Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    // round-robin (the loader shuffles): every class is present even in tiny sets
    const k = i % protos.length;
    labels[i] = k;
    const p = protos[k];
    const contrast = 0.75 + 0.5 * rng.next();
    const base = i * per;
    for (let j = 0; j < per; j++) images[base + j] = contrast * p[j] + 0.5 * rng.normal();
  }
  return makeSplit(images, labels, shape, what);
}

/** The most pixel values one synthetic split may hold (4 GiB of float32). */
export const SYNTHETIC_MAX_VALUES = 2 ** 30;

/** `synthetic:<C>x<H>x<W>:<classes>` with `limitTrain`/`limitTest` samples (defaults 1024/256). */
export function loadSynthetic(shape: ImageShape, classes: number, opts: LoadOptions = {}): Dataset {
  const seed = opts.seed ?? 0;
  const name = `synthetic:${shape.join('x')}:${classes}`;
  const protos = prototypes(shape, classes, new DataRng(seed, 101));
  const train = sample(protos, shape, opts.limitTrain ?? SYNTHETIC_DEFAULT_TRAIN, new DataRng(seed, 102), `${name} train`);
  const test = sample(protos, shape, opts.limitTest ?? SYNTHETIC_DEFAULT_TEST, new DataRng(seed, 103), `${name} test`);
  return { name, train, test, numClasses: classes, inputShape: shape, augment: false };
}
