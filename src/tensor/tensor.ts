/**
 * A dense float32 tensor: a shape and a row-major Float32Array. Images are NCHW.
 * Kept deliberately small: the engine's layers own their buffers and reuse them.
 */
export class Tensor {
  readonly size: number;
  constructor(
    readonly shape: readonly number[],
    readonly data: Float32Array = new Float32Array(shape.reduce((a, b) => a * b, 1)),
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== this.size) {
      throw new RangeError(`tensor shape [${shape.join(',')}] needs ${this.size} elements, got ${data.length}`);
    }
  }

  static zeros(shape: readonly number[]): Tensor {
    return new Tensor(shape);
  }

  /** Same data, new shape with the same element count. */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(shape, this.data);
  }

  clone(): Tensor {
    return new Tensor(this.shape, this.data.slice());
  }
}

/** Product of a shape's dimensions. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
