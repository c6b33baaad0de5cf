/**
 * src/field — the only module that knows how field elements are represented.
 *
 * - prime.ts    P = 2^21 − 9, centred representatives in [−HALF, HALF], scalar helpers.
 * - share.ts    branchless elementwise mod-P ops on centred Int32Arrays, 2-of-2 sharing,
 *               reduction of float64 accumulators, validation and wrap-around guard band.
 * - prg.ts      FieldStream: addressable AES-128-CTR streams of uniform field elements and
 *               stochastic-rounding noise; stream-key derivation and stream-id layout.
 * - noise.ts    NoiseStream: counter-based stochastic-rounding noise (reproducible, not secret).
 * - quantize.ts SWALP quantizer (per-tensor exponent, 8 bits, stochastic rounding) and
 *               dequantizer.
 * - combine.ts  three-term worker combination p + q − r and the enclave's mask-and-share sweep
 *               on already-quantized operands (the TypeScript reference of the fused enclave
 *               kernels in src/protocol/enclave-kernels.ts).
 */
export * from './prime.js';
export * from './share.js';
export * from './prg.js';
export * from './noise.js';
export * from './quantize.js';
export * from './combine.js';
