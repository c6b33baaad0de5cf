/**
 * Chains of layers: y = fₙ(…f₂(f₁(x))); backward runs the chain in reverse,
 * dropping the input gradient of the first layer when the caller does not need it.
 *
 * With a memory manager (managed mode, src/nn/memory) the chain also owns the
 * intermediate buffers: it releases each layer's input once the next output
 * exists (and the layer has registered what it saves), runs the manager's
 * hooks around every layer, and never releases the chain's own input or
 * gradient (the caller's) nor a buffer a pass-through layer handed on
 * (flatten's view, inference dropout). With sealed parameters it also has
 * each leaf layer's own parameters unsealed just for its forward and its
 * backward; after the backward the manager applies the optimizer update to
 * them (dX has been computed with the old W by then) and reseals them.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { ActivationMemory } from '../memory/activation-memory.js';
import type { Buffer, Layer, LinearLayerInfo, Parameter } from './layer.js';

/** Whether two tensors share their storage (views of one buffer). */
export function sameBuffer(a: Tensor, b: Tensor): boolean {
  return a.data.buffer === b.data.buffer;
}

/** The parameters the manager must unseal around `l` (none unless parameters are sealed and `l` reads some itself). */
function sealedOwn(l: Layer, mem: ActivationMemory): Parameter[] {
  return mem.sealsParameters ? (l.ownParameters?.() ?? []) : [];
}

/**
 * Managed mode: the manager's hooks wrap every leaf layer (beginLayer: room for its working set, restored
 * saved tensors, unsealed parameters; endLayer: parameter update/release, working-set record, saved
 * tensors dropped). A composite layer (residual block) runs chains of its own, whose layers get the hooks.
 */
export async function forwardChain(layers: readonly Layer[], x: Tensor, training: boolean, mem: ActivationMemory | null = null): Promise<Tensor> {
  let h = x;
  for (const l of layers) {
    if (mem === null || l.composite) {
      const y = await l.forward(h, training);
      if (mem !== null && !sameBuffer(h, x) && !sameBuffer(y, h)) mem.release(h.data);
      h = y;
      continue;
    }
    const own = sealedOwn(l, mem);
    await mem.beginLayer(l, own, false, h.data);
    let y: Tensor | null = null;
    try {
      y = await l.forward(h, training);
      if (!sameBuffer(h, x) && !sameBuffer(y, h)) mem.release(h.data);
    } finally {
      await mem.endLayer(l, own, false, training, y !== null);
    }
    h = y;
  }
  return h;
}

/** Returns dx of the chain's input, or null when !needInputGrad (or the chain is empty and !needInputGrad). */
export async function backwardChain(layers: readonly Layer[], dy: Tensor, needInputGrad: boolean, mem: ActivationMemory | null = null): Promise<Tensor | null> {
  let g: Tensor = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const need = i > 0 || needInputGrad;
    const l = layers[i];
    const hooked = mem !== null && !l.composite;
    const own = hooked ? sealedOwn(l, mem) : [];
    if (hooked) await mem.beginLayer(l, own, true);
    let d: Tensor | null = null;
    let done = false;
    try {
      d = await l.backward(g, need);
      if (mem !== null && !sameBuffer(g, dy) && (d === null || !sameBuffer(d, g))) mem.release(g.data);
      done = true;
    } finally {
      if (hooked) await mem.endLayer(l, own, true, true, done);
    }
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
