/**
 * Shapes of the bilinear ops the backends compute. All tensors are dense,
 * row-major; images are NCHW and conv weights are O×C×kH×kW.
 */

/** Geometry of a 2-D convolution (no groups, no dilation). */
export interface ConvGeometry {
  readonly batch: number;
  readonly inC: number;
  readonly inH: number;
  readonly inW: number;
  readonly outC: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
}

/** Output height of a convolution: floor((H + 2·pad − k) / stride) + 1. */
export function convOutH(g: ConvGeometry): number {
  return Math.floor((g.inH + 2 * g.padH - g.kH) / g.strideH) + 1;
}

/** Output width of a convolution: floor((W + 2·pad − k) / stride) + 1. */
export function convOutW(g: ConvGeometry): number {
  return Math.floor((g.inW + 2 * g.padW - g.kW) / g.strideW) + 1;
}

/** Builds a geometry with square kernel/stride/padding defaults, validated. */
export function convGeometry(
  g: Partial<ConvGeometry> &
    Pick<ConvGeometry, 'batch' | 'inC' | 'inH' | 'inW' | 'outC'> & { k?: number; stride?: number; pad?: number },
): ConvGeometry {
  const k = g.k ?? 3;
  const stride = g.stride ?? 1;
  const pad = g.pad ?? 0;
  const out: ConvGeometry = {
    batch: g.batch,
    inC: g.inC,
    inH: g.inH,
    inW: g.inW,
    outC: g.outC,
    kH: g.kH ?? k,
    kW: g.kW ?? k,
    strideH: g.strideH ?? stride,
    strideW: g.strideW ?? stride,
    padH: g.padH ?? pad,
    padW: g.padW ?? pad,
  };
  validateConvGeometry(out);
  return out;
}

/** Throws a clear error for impossible geometries. */
export function validateConvGeometry(g: ConvGeometry): void {
  for (const [name, v] of Object.entries(g)) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`conv geometry: ${name} must be a non-negative integer, got ${v}`);
  }
  for (const name of ['batch', 'inC', 'inH', 'inW', 'outC', 'kH', 'kW', 'strideH', 'strideW'] as const) {
    if (g[name] < 1) throw new RangeError(`conv geometry: ${name} must be ≥ 1, got ${g[name]}`);
  }
  if (convOutH(g) < 1 || convOutW(g) < 1) {
    throw new RangeError(
      `conv geometry: kernel ${g.kH}×${g.kW} does not fit input ${g.inH}×${g.inW} with padding ${g.padH}×${g.padW}`,
    );
  }
}

/** Element counts of the conv's tensors. */
export function convSizes(g: ConvGeometry): { input: number; weight: number; output: number; patch: number } {
  const oh = convOutH(g);
  const ow = convOutW(g);
  return {
    input: g.batch * g.inC * g.inH * g.inW,
    weight: g.outC * g.inC * g.kH * g.kW,
    output: g.batch * g.outC * oh * ow,
    patch: g.inC * g.kH * g.kW,
  };
}
