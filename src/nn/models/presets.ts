/**
 * The built-in model configs (plain ModelConfig objects, printable as JSON and
 * usable as templates for user configs).
 *
 *   mnist-cnn  conv3×3(→16, pad 1)-BN-ReLU-maxpool2 → conv3×3(→32, pad 1)-BN-ReLU-maxpool2
 *              → FC(→128)-ReLU → FC(→classes).  28×28×1: 2.44 MFLOP forward per image.
 *   vgg11/13/16  CIFAR-10 VGG with BatchNorm (the Goten paper's model; docs/models.md): 3×3 pad-1 convs
 *              without bias, each followed by BN and ReLU; 2×2 max-pools; then
 *              FC512-ReLU-FC512-ReLU-FC(classes). The pools use ceil mode, which is
 *              identical to floor mode on 32×32 inputs and lets 28×28 inputs reach 1×1.
 *   resnet18   CIFAR ResNet-18: 3×3 stem (no max-pool), 4 stages × 2 BasicBlocks
 *              (64, 128, 256, 512 channels; stride 2 from stage 2), 1×1 strided conv+BN
 *              projection shortcuts where the shape changes, global average pool, FC.
 * Layer names follow torchvision (`features.0`, `classifier.3`, `layer2.0.downsample.0`).
 */
import type { LayerSpec, ModelConfig } from './config.js';
import { PRESET_RECIPES } from './recipes.js';

function mnistCnn(): ModelConfig {
  return {
    name: 'mnist-cnn',
    description: 'small CNN for 28×28 inputs: 2×(conv3×3+BN+ReLU+maxpool2), FC128, FC',
    // PyTorch's default conv/linear init, U(±1/√fan_in): trains smoothly at SGD lr 0.05, momentum 0.9
    init: 'kaiming-uniform',
    initGain: Math.sqrt(1 / 3),
    layers: [
      { type: 'conv', name: 'conv1', out: 16, kernel: 3, pad: 1, bias: false },
      { type: 'bn2d', name: 'bn1' },
      { type: 'relu', name: 'relu1' },
      { type: 'maxpool', name: 'pool1', kernel: 2 },
      { type: 'conv', name: 'conv2', out: 32, kernel: 3, pad: 1, bias: false },
      { type: 'bn2d', name: 'bn2' },
      { type: 'relu', name: 'relu2' },
      { type: 'maxpool', name: 'pool2', kernel: 2 },
      { type: 'flatten', name: 'flatten' },
      { type: 'linear', name: 'fc1', out: 128 },
      { type: 'relu', name: 'relu3' },
      { type: 'linear', name: 'fc2', out: 'classes' },
    ],
  };
}

const VGG_CFG: Record<string, (number | 'M')[]> = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
};

function vgg(name: string): ModelConfig {
  const layers: LayerSpec[] = [];
  let i = 0;
  for (const v of VGG_CFG[name]) {
    if (v === 'M') {
      layers.push({ type: 'maxpool', name: `features.${i++}`, kernel: 2, ceil: true });
    } else {
      layers.push({ type: 'conv', name: `features.${i++}`, out: v, kernel: 3, pad: 1, bias: false });
      layers.push({ type: 'bn2d', name: `features.${i++}` });
      layers.push({ type: 'relu', name: `features.${i++}` });
    }
  }
  layers.push(
    { type: 'flatten', name: 'flatten' },
    { type: 'linear', name: 'classifier.0', out: 512 },
    { type: 'relu', name: 'classifier.1' },
    { type: 'linear', name: 'classifier.2', out: 512 },
    { type: 'relu', name: 'classifier.3' },
    { type: 'linear', name: 'classifier.4', out: 'classes' },
  );
  return { name, description: `${name.toUpperCase()} with BatchNorm, CIFAR-10 form`, init: 'kaiming-normal', layers };
}

function basicBlock(planes: number, stride: number, project: boolean): LayerSpec {
  return {
    type: 'residual',
    body: [
      { type: 'conv', name: 'conv1', out: planes, kernel: 3, stride, pad: 1, bias: false },
      { type: 'bn2d', name: 'bn1' },
      { type: 'relu', name: 'relu1' },
      { type: 'conv', name: 'conv2', out: planes, kernel: 3, pad: 1, bias: false },
      { type: 'bn2d', name: 'bn2' },
    ],
    shortcut: project
      ? [
          { type: 'conv', name: 'downsample.0', out: planes, kernel: 1, stride, bias: false },
          { type: 'bn2d', name: 'downsample.1' },
        ]
      : [],
  };
}

function resnet18(): ModelConfig {
  const layers: LayerSpec[] = [
    { type: 'conv', name: 'conv1', out: 64, kernel: 3, pad: 1, bias: false },
    { type: 'bn2d', name: 'bn1' },
    { type: 'relu', name: 'relu' },
  ];
  let inPlanes = 64;
  [64, 128, 256, 512].forEach((planes, s) => {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      layers.push({ ...basicBlock(planes, stride, stride !== 1 || inPlanes !== planes), name: `layer${s + 1}.${b}` });
      layers.push({ type: 'relu', name: `layer${s + 1}.${b}.relu` });
      inPlanes = planes;
    }
  });
  layers.push({ type: 'gap', name: 'avgpool' }, { type: 'linear', name: 'fc', out: 'classes' });
  return { name: 'resnet18', description: 'ResNet-18, CIFAR form (3×3 stem, no stem pool)', init: 'kaiming-normal', layers };
}

const PRESETS: Record<string, () => ModelConfig> = {
  'mnist-cnn': mnistCnn,
  vgg11: () => vgg('vgg11'),
  vgg13: () => vgg('vgg13'),
  vgg16: () => vgg('vgg16'),
  resnet18,
};

/** Names of the built-in models. */
export const modelNames: readonly string[] = Object.keys(PRESETS);

/** A fresh copy of a built-in config with its measured training recipe (throws on an unknown name). */
export function presetConfig(name: string): ModelConfig {
  const make = PRESETS[name];
  if (make === undefined) throw new RangeError(`unknown model '${name}' (built-in: ${modelNames.join(', ')})`);
  return { ...make(), recipe: { ...PRESET_RECIPES[name] } };
}
