/**
 * CIFAR-10 "binary version" (cifar-10-batches-bin/): data_batch_1..5.bin for
 * training and test_batch.bin for testing. Each record is 1 label byte (0–9)
 * followed by 3072 pixel bytes, channel-planar (1024 R, 1024 G, 1024 B, each
 * 32×32 row-major) — already NCHW, so records are split, never transposed.
 * An official file is 10 000 records = 30 730 000 bytes; any positive multiple
 * of 3073 is accepted (tests use tiny files), anything else is rejected.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Dataset, type ImageShape, type LoadOptions, limitSplit, makeSplit, type Split } from './dataset.js';

export const CIFAR10_SHAPE: ImageShape = [3, 32, 32];
export const CIFAR10_PIXELS = 3 * 32 * 32;
export const CIFAR10_RECORD = 1 + CIFAR10_PIXELS;
export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Checks a CIFAR-10 binary file's size; returns its record count. */
export function cifarRecordCount(byteLength: number, name: string): number {
  if (byteLength === 0 || byteLength % CIFAR10_RECORD !== 0) {
    throw new Error(
      `${name}: ${byteLength} bytes is not a whole number of ${CIFAR10_RECORD}-byte CIFAR-10 records ` +
        '(is this the binary version, cifar-10-batches-bin?)',
    );
  }
  return byteLength / CIFAR10_RECORD;
}

/** Splits records into labels and pixels, writing into `images`/`labels` at record offset `at`. */
export function decodeCifarBatch(bytes: Uint8Array, name: string, images: Uint8Array, labels: Int32Array, at: number): number {
  const n = cifarRecordCount(bytes.length, name);
  for (let r = 0; r < n; r++) {
    const off = r * CIFAR10_RECORD;
    const label = bytes[off];
    if (label > 9) throw new Error(`${name}: record ${r} has label ${label}, CIFAR-10 labels are 0..9`);
    labels[at + r] = label;
    images.set(bytes.subarray(off + 1, off + CIFAR10_RECORD), (at + r) * CIFAR10_PIXELS);
  }
  return n;
}

/** Reads one batch file into a fresh split. */
export function readCifarBatch(path: string): Split {
  return readCifarFiles([path], path);
}

function readCifarFiles(paths: string[], what: string): Split {
  let records = 0;
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`CIFAR-10 file ${p} is missing`);
    // validate every file's size before allocating or reading anything
    records += cifarRecordCount(statSync(p).size, p);
  }
  const images = new Uint8Array(records * CIFAR10_PIXELS);
  const labels = new Int32Array(records);
  let at = 0;
  for (const p of paths) at += decodeCifarBatch(readFileSync(p), p, images, labels, at);
  return makeSplit(images, labels, CIFAR10_SHAPE, what);
}

/** Loads `cifar10:<dir>`. */
export function loadCifar10(dir: string, opts: LoadOptions = {}): Dataset {
  if (!existsSync(dir)) throw new Error(`CIFAR-10 directory ${dir} does not exist`);
  const missing = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new Error(`${dir}: missing ${missing.join(', ')} (expected the CIFAR-10 binary version, cifar-10-batches-bin)`);
  }
  const train = readCifarFiles(CIFAR10_TRAIN_FILES.map((f) => join(dir, f)), `cifar10:${dir} train`);
  const test = readCifarFiles([join(dir, CIFAR10_TEST_FILE)], `cifar10:${dir} test`);
  return {
    name: `cifar10:${dir}`,
    train: limitSplit(train, opts.limitTrain),
    test: limitSplit(test, opts.limitTest),
    numClasses: 10,
    inputShape: CIFAR10_SHAPE,
    augment: true,
  };
}
