/**
 * Chains of layers: y = fₙ(…f₂(f₁(x))); backward runs the chain in reverse,
 * dropping the input gradient of the first layer when the caller does not need it.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Buffer, Layer, LinearLayerInfo, Parameter } from './layer.js';

export async function forwardChain(layers: readonly Layer[], x: Tensor, training: boolean): Promise<Tensor> {
  let h = x;
  for (const l of layers) h = await l.forward(h, training);
  return h;
}

/** Returns dx of the chain's input, or null when !needInputGrad (or the chain is empty and !needInputGrad). */
export async function backwardChain(layers: readonly Layer[], dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
  let g: Tensor = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const need = i > 0 || needInputGrad;
    const d = await layers[i].backward(g, need);
    if (!need) return null;
    if (d === null) throw new Error(`${layers[i].type} '${layers[i].name}': returned no input gradient`);
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

export function chainBuffers(layers: readonly Layer[]): Buffer[] {
  return layers.flatMap((l) => l.buffers());
}

export function chainLinearLayers(layers: readonly Layer[]): LinearLayerInfo[] {
  return layers.flatMap((l) => l.linearLayers());
}
