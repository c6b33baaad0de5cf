/**
 * Batch normalisation over channel c of x shaped [B, C, S…] (BatchNorm2d:
 * [B,C,H,W]; BatchNorm1d: [B,C] or [B,C,L]); N = B·(product of S) values per channel.
 *
 * Training (batch statistics, biased variance):
 *   μ = Σx/N,  σ² = Σ(x−μ)²/N,  x̂ = (x−μ)/√(σ²+ε),  y = γ·x̂ + β
 *   running_mean ← (1−m)·running_mean + m·μ
 *   running_var  ← (1−m)·running_var  + m·σ²·N/(N−1)     (unbiased, as PyTorch; σ² when N = 1)
 *   dβ = Σdy,  dγ = Σ x̂·dy,  dx = γ/(N·√(σ²+ε)) · (N·dy − Σdy − x̂·Σ(x̂·dy))
 * Inference (running statistics):
 *   x̂ = (x − running_mean)/√(running_var+ε),  y = γ·x̂ + β,  dx = γ/√(running_var+ε) · dy
 *
 * Defaults ε = 1e-5, m = 0.1, γ = 1, β = 0. The loops are the process's kernels
 * (../kernels/reference-batchnorm.ts states their float64 arithmetic): per-channel sums in
 * float64 in a fixed lane order, so results are deterministic and the same for the native
 * and the reference kernels.
 */
import { Tensor } from '../../tensor/tensor.js';
import { nnKernels } from '../kernels/index.js';
import { type ModelBuffer, type Layer, type LayerContext, type LinearLayerInfo, makeParameter, type Parameter } from './layer.js';

export interface BatchNormOptions {
  channels: number;
  eps?: number;
  momentum?: number;
  /** Whether weight decay applies to γ and β (default true, as in PyTorch and Goten). */
  decay?: boolean;
}

export class BatchNorm implements Layer {
  readonly type: 'bn1d' | 'bn2d';
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: ModelBuffer;
  readonly runningVar: ModelBuffer;
  readonly channels: number;
  readonly eps: number;
  readonly momentum: number;
  /** Per-channel 1/√(var+ε) used by the last forward. */
  private readonly invStd: Float64Array;
  private shape: readonly number[] | null = null;
  private trained = false;

  constructor(
    readonly name: string,
    private readonly ctx: LayerContext,
    kind: '1d' | '2d',
    o: BatchNormOptions,
  ) {
    this.type = kind === '1d' ? 'bn1d' : 'bn2d';
    this.channels = o.channels;
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    const decay = o.decay ?? true;
    this.weight = makeParameter(`${name}.weight`, [o.channels], decay);
    this.weight.value.fill(1);
    this.bias = makeParameter(`${name}.bias`, [o.channels], decay);
    this.runningMean = { name: `${name}.running_mean`, shape: [o.channels], value: new Float32Array(o.channels) };
    this.runningVar = { name: `${name}.running_var`, shape: [o.channels], value: new Float32Array(o.channels).fill(1) };
    this.invStd = new Float64Array(o.channels);
  }

  outputShape(s: readonly number[]): number[] {
    const ok = this.type === 'bn2d' ? s.length === 3 : s.length === 1 || s.length === 2;
    if (!ok || s[0] !== this.channels) {
      const want = this.type === 'bn2d' ? `[${this.channels},H,W]` : `[${this.channels}] or [${this.channels},L]`;
      throw new RangeError(`${this.type} '${this.name}': expected input ${want}, got [${s.join(',')}]`);
    }
    return s.slice();
  }

  async forward(x: Tensor, training: boolean): Promise<Tensor> {
    if (x.shape.length < 2) throw new RangeError(`${this.type} '${this.name}': expected a batch-first input`);
    this.outputShape(x.shape.slice(1));
    const B = x.shape[0];
    const C = this.channels;
    const S = x.size / (B * C);
    const y = this.ctx.mem.f32(this, 'y', x.size);
    const xhat = this.ctx.mem.f32(this, 'xhat', x.size);
    const s = { batch: B, channels: C, spatial: S };
    const gamma = this.weight.value;
    const beta = this.bias.value;
    const rm = this.runningMean.value;
    const rv = this.runningVar.value;
    if (training) nnKernels().bnForwardTrain(s, this.eps, this.momentum, x.data, gamma, beta, rm, rv, xhat, y, this.invStd);
    else nnKernels().bnForwardEval(s, this.eps, x.data, gamma, beta, rm, rv, xhat, y, this.invStd);
    this.ctx.mem.save(this, 'xhat', new Tensor(x.shape, xhat));
    this.shape = x.shape;
    this.trained = training;
    return new Tensor(x.shape, y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    const shape = this.shape;
    if (shape === null) throw new Error(`${this.type} '${this.name}': backward called before forward`);
    const xhat = this.ctx.mem.load(this, 'xhat').data;
    const B = shape[0];
    const C = this.channels;
    const S = xhat.length / (B * C);
    if (dy.size !== xhat.length) throw new RangeError(`${this.type} '${this.name}': gradient of ${dy.size} elements for an output of ${xhat.length}`);
    const dx = needInputGrad ? this.ctx.mem.f32(this, 'dx', xhat.length) : null;
    const s = { batch: B, channels: C, spatial: S };
    nnKernels().bnBackward(s, this.trained, dy.data, xhat, this.weight.value, this.invStd, this.weight.grad, this.bias.grad, dx);
    return dx === null ? null : new Tensor(shape, dx);
  }

  parameters(): Parameter[] {
    return [this.weight, this.bias];
  }

  ownParameters(): Parameter[] {
    return this.parameters();
  }

  buffers(): ModelBuffer[] {
    return [this.runningMean, this.runningVar];
  }

  linearLayers(): LinearLayerInfo[] {
    return [];
  }

  flops(_inShape: readonly number[]): number {
    return 0;
  }
}
