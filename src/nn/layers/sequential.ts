/**
 * Chains of layers: y = fₙ(…f₂(f₁(x))); backward runs the chain in reverse,
 * dropping the input gradient of the first layer when the caller does not need it.
 *
 * The chain owns the intermediate tensors: it drops each layer's input once the next
 * output exists (the layer has saved what it needs by then), never the chain's own
 * input or gradient (the caller's) nor a buffer a pass-through layer handed on
 * (flatten's view, inference dropout); and it runs the memory's hooks around every
 * layer call (layer-memory.ts: nothing unmanaged; managed: room for the layer's
 * working set, restored saved tensors, unsealed parameters, the optimizer update
 * after a backward, the call's other leases ended).
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerMemory } from '../memory/layer-memory.js';
import type { ModelBuffer, Layer, LinearLayerInfo, Parameter } from './layer.js';

export async function forwardChain(layers: readonly Layer[], x: Tensor, training: boolean, mem: LayerMemory): Promise<Tensor> {
  let h = x;
  for (const l of layers) {
    await mem.beginLayer(l, false, h);
    let y: Tensor | null = null;
    try {
      y = await l.forward(h, training);
      mem.drop(h, x, y);
    } finally {
      await mem.endLayer(l, false, training, y !== null, y);
    }
    h = y;
  }
  return h;
}

/** Returns dx of the chain's input, or null when !needInputGrad (or the chain is empty and !needInputGrad). */
export async function backwardChain(layers: readonly Layer[], dy: Tensor, needInputGrad: boolean, mem: LayerMemory): Promise<Tensor | null> {
  let g: Tensor = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const need = i > 0 || needInputGrad;
    const l = layers[i];
    await mem.beginLayer(l, true, null);
    let d: Tensor | null = null;
    let done = false;
    try {
      d = await l.backward(g, need);
      mem.drop(g, dy, d);
      done = true;
    } finally {
      await mem.endLayer(l, true, true, done, d);
    }
    if (!need) return null;
    if (d === null) throw new Error(`${l.type} '${l.name}': returned no input gradient`);
    g = d;
  }
  return needInputGrad ? g : null;
}

export function chainOutputShape(layers: readonly Layer[], s: readonly number[]): number[] {
  let shape = s.slice();
  for (const l of layers) shape = l.outputShape(shape);
  return shape;
}

export function chainFlops(layers: readonly Layer[], s: readonly number[]): number {
  let shape = s.slice();
  let f = 0;
  for (const l of layers) {
    f += l.flops(shape);
    shape = l.outputShape(shape);
  }
  return f;
}

export function chainParameters(layers: readonly Layer[]): Parameter[] {
  return layers.flatMap((l) => l.parameters());
}

export function chainBuffers(layers: readonly Layer[]): ModelBuffer[] {
  return layers.flatMap((l) => l.buffers());
}

export function chainLinearLayers(layers: readonly Layer[]): LinearLayerInfo[] {
  return layers.flatMap((l) => l.linearLayers());
}
