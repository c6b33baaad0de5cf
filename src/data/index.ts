/** Data sets, batching and augmentation (see the individual modules for formats). */
export type { Dataset, ImageShape, LoadOptions, Split } from './dataset.js';
export { limitSplit } from './dataset.js';
export { parseIdx, readIdxFile, encodeIdxU8, isGzip, type IdxArray } from './idx.js';
export { loadIdxDir, loadMnist, mnistDataDir, FASHION_MNIST_DIR } from './mnist.js';
export { loadCifar10, readCifarBatch, CIFAR10_CLASSES, CIFAR10_RECORD } from './cifar.js';
export { loadSynthetic } from './synthetic.js';
export { parseDataSpec, formatDataSpec, loadDataset, type DataSpec } from './spec.js';
export { channelStats, validateStats, type ChannelStats } from './normalize.js';
export { BatchLoader, type Batch, type LoaderOptions, type LoaderState } from './loader.js';
export { DataRng, type DataRngState } from './random.js';
