/**
 * Fully-connected layer. x is [B, ...] read as B×in (the trailing dims are
 * flattened implicitly), W is out×in, b is [out]:
 *
 *   forward      Y = X·Wᵀ (+ b)            C = f(W, X)
 *   grad-input   dX = dY·W                 C = f(W, dY)   (dX keeps x's shape)
 *   grad-weight  dW = dYᵀ·X                C = f(dY, X)
 *   bias         db = Σ_rows dY
 *
 * Products go through the model's LinearExecutor; the bias is handled here in float32.
 */
import type { BilinearOp, LinearGeometry } from '../../backend/bilinear.js';
import { Tensor } from '../../tensor/tensor.js';
import type { OpTag } from '../executor.js';
import { initLayerWeight, type WeightInit } from '../init.js';
import { addChannelBias, backwardLinearOp, LinearOpLayer } from './linear-op-layer.js';
import { type Layer, type LayerContext, makeParameter, type Parameter } from './layer.js';

export interface LinearOptions {
  inF: number;
  outF: number;
  /** Learnable bias (default true). */
  bias?: boolean;
  /** How the weight is initialised from the context's Rng, here in the constructor (default kaiming-normal). */
  init?: WeightInit;
}

interface Ops {
  geom: LinearGeometry;
  forward: BilinearOp;
  gradInput: BilinearOp;
  gradWeight: BilinearOp;
}

export class Linear extends LinearOpLayer implements Layer {
  readonly type = 'linear';
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inF: number;
  readonly outF: number;
  private ops: Ops | null = null;

  constructor(name: string, ctx: LayerContext, tag: OpTag, o: LinearOptions) {
    super(name, ctx, tag);
    this.inF = o.inF;
    this.outF = o.outF;
    this.weight = makeParameter(`${name}.weight`, [o.outF, o.inF], true);
    initLayerWeight(this.weight, ctx.rng, o.init);
    this.bias = o.bias === false ? null : makeParameter(`${name}.bias`, [o.outF], true);
  }

  outputShape(s: readonly number[]): number[] {
    const n = s.reduce((a, b) => a * b, 1);
    if (n !== this.inF) throw new RangeError(`linear '${this.name}': expected ${this.inF} input features, got [${s.join(',')}] = ${n}`);
    return [this.outF];
  }

  private opsFor(batch: number): Ops {
    if (this.ops !== null && this.ops.geom.batch === batch) return this.ops;
    const geom: LinearGeometry = { batch, inF: this.inF, outF: this.outF };
    this.ops = {
      geom,
      forward: { layer: 'linear', pass: 'forward', geom },
      gradInput: { layer: 'linear', pass: 'grad-input', geom },
      gradWeight: { layer: 'linear', pass: 'grad-weight', geom },
    };
    return this.ops;
  }

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    if (x.shape.length < 2) throw new RangeError(`linear '${this.name}': expected a batch-first input, got [${x.shape.join(',')}]`);
    const batch = x.shape[0];
    this.outputShape(x.shape.slice(1));
    const ops = this.opsFor(batch);
    const y = this.ctx.mem.f32(this, 'y', batch * this.outF);
    await this.ctx.executor.run(ops.forward, this.tag, this.weight.value, x.data, y);
    if (this.bias !== null) addChannelBias(y, this.bias.value, batch, this.outF, 1);
    this.ctx.mem.save(this, 'x', x);
    return new Tensor([batch, this.outF], y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    const x = this.ctx.mem.load(this, 'x');
    const batch = x.shape[0];
    if (dy.size !== batch * this.outF) {
      throw new RangeError(`linear '${this.name}': gradient shape [${dy.shape.join(',')}] does not match [${batch},${this.outF}]`);
    }
    const ops = this.opsFor(batch);
    return backwardLinearOp(this, ops, x, dy, this.outF, 1, needInputGrad);
  }

  flops(_inShape: readonly number[]): number {
    return 2 * this.inF * this.outF;
  }
}
