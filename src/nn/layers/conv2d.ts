/**
 * 2-D convolution (no groups/dilation), NCHW, weights O×C×kH×kW, zero padding:
 *
 *   forward      y[n,o,p,q] = Σ_{c,i,j} w[o,c,i,j] · x[n,c,p·sH+i−pH, q·sW+j−pW] (+ b[o])
 *   grad-input   dx = f(W, dY)   (transposed convolution of dy with w)
 *   grad-weight  dW = f(dY, X),  dw[o,c,i,j] = Σ_{n,p,q} dy[n,o,p,q] · x[n,c,p·sH+i−pH, q·sW+j−pW]
 *   bias         db[o] = Σ_{n,p,q} dy[n,o,p,q]
 *
 * The three products go through the model's LinearExecutor (plain, quantized or
 * secure); the bias is added and reduced here in float32.
 */
import type { BilinearOp } from '../../backend/bilinear.js';
import { type ConvGeometry, convOutH, convOutW, validateConvGeometry } from '../../tensor/geometry.js';
import { Tensor } from '../../tensor/tensor.js';
import type { OpTag } from '../executor.js';
import { initLayerWeight, type WeightInit } from '../init.js';
import { addChannelBias, backwardLinearOp, LinearOpLayer } from './linear-op-layer.js';
import { expectRank, type Layer, type LayerContext, makeParameter, type Parameter } from './layer.js';

export interface Conv2dOptions {
  inC: number;
  outC: number;
  kH: number;
  kW: number;
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  /** Learnable per-channel bias (default false). */
  bias?: boolean;
  /** How the weight is initialised from the context's Rng, here in the constructor (default kaiming-normal). */
  init?: WeightInit;
}

interface Ops {
  geom: ConvGeometry;
  forward: BilinearOp;
  gradInput: BilinearOp;
  gradWeight: BilinearOp;
}

export class Conv2d extends LinearOpLayer implements Layer {
  readonly type = 'conv';
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inC: number;
  readonly outC: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  private ops: Ops | null = null;

  constructor(name: string, ctx: LayerContext, tag: OpTag, o: Conv2dOptions) {
    super(name, ctx, tag);
    this.inC = o.inC;
    this.outC = o.outC;
    this.kH = o.kH;
    this.kW = o.kW;
    this.strideH = o.strideH ?? 1;
    this.strideW = o.strideW ?? 1;
    this.padH = o.padH ?? 0;
    this.padW = o.padW ?? 0;
    this.weight = makeParameter(`${name}.weight`, [o.outC, o.inC, o.kH, o.kW], true);
    initLayerWeight(this.weight, ctx.rng, o.init);
    this.bias = o.bias === true ? makeParameter(`${name}.bias`, [o.outC], true) : null;
  }

  private geometry(batch: number, inH: number, inW: number): ConvGeometry {
    return {
      batch,
      inC: this.inC,
      inH,
      inW,
      outC: this.outC,
      kH: this.kH,
      kW: this.kW,
      strideH: this.strideH,
      strideW: this.strideW,
      padH: this.padH,
      padW: this.padW,
    };
  }

  outputShape(s: readonly number[]): number[] {
    if (s.length !== 3 || s[0] !== this.inC) {
      throw new RangeError(`conv '${this.name}': expected input [${this.inC},H,W], got [${s.join(',')}]`);
    }
    const g = this.geometry(1, s[1], s[2]);
    try {
      validateConvGeometry(g);
    } catch (e) {
      throw new RangeError(`conv '${this.name}': ${(e as Error).message}`);
    }
    return [this.outC, convOutH(g), convOutW(g)];
  }

  private opsFor(batch: number, inH: number, inW: number): Ops {
    const o = this.ops;
    if (o !== null && o.geom.batch === batch && o.geom.inH === inH && o.geom.inW === inW) return o;
    const geom = this.geometry(batch, inH, inW);
    validateConvGeometry(geom);
    const ops: Ops = {
      geom,
      forward: { layer: 'conv', pass: 'forward', geom },
      gradInput: { layer: 'conv', pass: 'grad-input', geom },
      gradWeight: { layer: 'conv', pass: 'grad-weight', geom },
    };
    this.ops = ops;
    return ops;
  }

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    expectRank(this, x, 4);
    const [batch, c, inH, inW] = x.shape;
    if (c !== this.inC) throw new RangeError(`conv '${this.name}': expected ${this.inC} input channels, got ${c}`);
    const ops = this.opsFor(batch, inH, inW);
    const oh = convOutH(ops.geom);
    const ow = convOutW(ops.geom);
    const y = this.ctx.mem.f32(this, 'y', batch * this.outC * oh * ow);
    await this.ctx.executor.run(ops.forward, this.tag, this.weight.value, x.data, y);
    if (this.bias !== null) addChannelBias(y, this.bias.value, batch, this.outC, oh * ow);
    this.ctx.mem.save(this, 'x', x);
    return new Tensor([batch, this.outC, oh, ow], y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    const x = this.ctx.mem.load(this, 'x');
    const ops = this.opsFor(x.shape[0], x.shape[2], x.shape[3]);
    const plane = convOutH(ops.geom) * convOutW(ops.geom);
    if (dy.size !== x.shape[0] * this.outC * plane) {
      throw new RangeError(`conv '${this.name}': gradient shape [${dy.shape.join(',')}] does not match the output`);
    }
    return backwardLinearOp(this, ops, x, dy, this.outC, plane, needInputGrad);
  }

  flops(inShape: readonly number[]): number {
    const [, oh, ow] = this.outputShape(inShape);
    return 2 * this.outC * oh * ow * this.inC * this.kH * this.kW;
  }
}
