/**
 * The native non-linear kernels refuse bad arguments with TypeError (wrong kind of value or
 * array type) or RangeError (wrong length, bad shape or geometry, overlapping output, index
 * out of range) and leave the process running; valid views at offsets and of
 * SharedArrayBuffers are accepted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PoolGeometry } from '../../src/nn/kernels/index.js';
import type { NnAddon } from '../../src/nn/kernels/native.js';
import { nnAddon, skipNative } from './kernels-helpers.js';

const f32 = (n: number): Float32Array => new Float32Array(n);
const G: PoolGeometry = { planes: 2, inH: 4, inW: 4, outH: 2, outW: 2, kH: 2, kW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };

function a(): NnAddon {
  if (nnAddon === null) throw new Error('unreachable: skipped without the addon');
  return nnAddon;
}

describe('native non-linear kernels: argument checks', { skip: skipNative }, () => {
  it('TypeError for wrong kinds of values', () => {
    const t = (f: () => void, re: RegExp): void => assert.throws(f, (e: Error) => e instanceof TypeError && re.test(e.message));
    t(() => a().reluForward(new Float64Array(4) as unknown as Float32Array, f32(4)), /reluForward: 'x' must be a Float32Array/);
    t(() => a().reluForward([1, 2] as unknown as Float32Array, f32(2)), /'x' must be a Float32Array, got Array/);
    t(() => a().reluBackward(f32(3), f32(3), undefined as unknown as Float32Array), /'dx' must be a Float32Array/);
    t(() => a().accumulateF32(f32(3), new Int32Array(3) as unknown as Float32Array), /'d' must be a Float32Array/);
    t(() => a().sgdUpdate(f32(3), f32(3), null, '0.1' as unknown as number, 0, 1, 0, true, false), /lr must be a number/);
    t(() => a().sgdUpdate(f32(3), f32(3), null, 0.1, 0, 1, 0, 1 as unknown as boolean, false), /first must be a boolean/);
    t(() => a().adamUpdate(f32(3), f32(3), f32(3), f32(3), 0.9, 0.999, undefined as unknown as number, 0, 1, 1, 1), /eps must be a number/);
    t(() => a().maxPoolForward(null as unknown as PoolGeometry, f32(32), f32(8), new Int32Array(8)), /geometry must be a pool geometry object/);
    t(() => a().maxPoolForward({ ...G, kH: '2' } as unknown as PoolGeometry, f32(32), f32(8), new Int32Array(8)), /geometry.kH must be a number/);
    t(() => a().maxPoolForward(G, f32(32), f32(8), f32(8) as unknown as Int32Array), /'idx' must be a Int32Array/);
    t(() => a().bnBackward(2, 3, 4, 'yes' as unknown as boolean, f32(24), f32(24), f32(3), new Float64Array(3), f32(3), f32(3), null), /trained must be a boolean/);
    t(() => a().bnForwardTrain(2, 3, 4, 1e-5, 0.1, f32(24), f32(3), f32(3), f32(3), f32(3), f32(24), f32(24), f32(3) as unknown as Float64Array), /'invStd' must be a Float64Array/);
    t(() => a().setNnSimd(1 as unknown as boolean), /enabled must be a boolean/);
  });

  it('RangeError for wrong lengths and shapes', () => {
    const r = (f: () => void, re: RegExp): void => assert.throws(f, (e: Error) => e instanceof RangeError && re.test(e.message));
    r(() => a().reluForward(f32(5), f32(4)), /buffer 'y' has length 4, expected x.length = 5/);
    r(() => a().reluBackward(f32(5), f32(5), f32(6)), /'dx' has length 6/);
    r(() => a().multiplyF32(f32(5), f32(4), f32(5)), /'m' has length 4/);
    r(() => a().addChannelBias(f32(12), f32(2), 2, 3, 2), /'b' has length 2, expected channels = 3/);
    r(() => a().reduceChannelBias(f32(3), f32(11), 2, 3, 2), /'dy' has length 11, expected batch\*channels\*plane = 12/);
    r(() => a().addChannelBias(f32(0), f32(3), 0, 3, 2), /batch must be an integer in \[1, 2\^31-1\]/);
    r(() => a().addChannelBias(f32(6), f32(3), 1.5, 3, 2), /batch must be an integer/);
    r(() => a().reduceChannelBias(f32(65536), f32(1), 65536, 65536, 65536), /exceeds 2\^31-1 elements/);
    r(() => a().sgdUpdate(f32(4), f32(4), f32(3), 0.1, 0.9, 1, 0, false, false), /'buf' has length 3/);
    r(() => a().adamUpdate(f32(4), f32(4), f32(4), f32(5), 0.9, 0.999, 1e-8, 0, 1, 1, 1), /'v' has length 5/);
    r(() => a().bnForwardTrain(2, 3, 4, 1e-5, 0.1, f32(24), f32(3), f32(3), f32(3), f32(3), f32(24), f32(23), new Float64Array(3)), /'y' has length 23, expected batch\*channels\*spatial = 24/);
    r(() => a().bnForwardEval(2, 3, 4, 1e-5, f32(24), f32(3), f32(2), f32(3), f32(3), f32(24), f32(24), new Float64Array(3)), /'beta' has length 2/);
    r(() => a().bnBackward(2, 3, 4, true, f32(24), f32(24), f32(3), new Float64Array(4), f32(3), f32(3), null), /'invStd' has length 4/);
    r(() => a().globalAvgPoolForward(3, 4, f32(12), f32(4)), /'y' has length 4, expected planes = 3/);
    r(() => a().globalAvgPoolBackward(3, 0, f32(3), f32(0)), /hw must be an integer in \[1/);
  });

  it('RangeError for pool geometry that would read outside the input, and for bad argmax indices', () => {
    const r = (f: () => void, re: RegExp): void => assert.throws(f, (e: Error) => e instanceof RangeError && re.test(e.message));
    r(() => a().maxPoolForward({ ...G, outH: 3 }, f32(32), f32(12), new Int32Array(12)), /last window starts beyond the input/);
    r(() => a().avgPoolForward({ ...G, strideW: 5 }, f32(32), f32(8)), /last window starts beyond the input/);
    r(() => a().avgPoolBackward({ ...G, padH: 2 }, f32(8), f32(32)), /padding must be at most half the kernel/);
    r(() => a().maxPoolForward({ ...G, kW: 0 }, f32(32), f32(8), new Int32Array(8)), /geometry.kW must be an integer in \[1/);
    r(() => a().maxPoolForward({ ...G, planes: NaN }, f32(32), f32(8), new Int32Array(8)), /geometry.planes must be an integer/);
    r(() => a().maxPoolForward(G, f32(31), f32(8), new Int32Array(8)), /'x' has length 31, expected planes\*inH\*inW = 32/);
    r(() => a().maxPoolBackward(Int32Array.of(0, 32), f32(2), f32(32)), /idx\[1\] = 32 is outside \[0, dx.length = 32\)/);
    r(() => a().maxPoolBackward(Int32Array.of(-1), f32(1), f32(32)), /idx\[0\] = -1 is outside/);
    const dx = f32(4).fill(5);
    r(() => a().maxPoolBackward(Int32Array.of(1, 9), f32(2), dx), /outside/);
    assert.deepEqual([...dx], [5, 5, 5, 5], 'nothing written when an index is bad');
  });

  it('RangeError when an output shares memory with another argument', () => {
    const r = (f: () => void, re: RegExp): void => assert.throws(f, (e: Error) => e instanceof RangeError && re.test(e.message));
    const buf = f32(16);
    r(() => a().reluForward(buf.subarray(0, 8), buf.subarray(4, 12)), /output 'y' must not share memory with input 'x'/);
    r(() => a().reluForward(buf, buf), /must not share memory/);
    r(() => a().accumulateF32(buf.subarray(0, 8), buf.subarray(7, 15)), /output 'acc' must not share memory with input 'd'/);
    r(() => a().sgdUpdate(buf.subarray(0, 4), f32(4), buf.subarray(2, 6), 0.1, 0.9, 1, 0, false, false), /output 'w' must not share memory with output 'buf'/);
    r(() => a().adamUpdate(f32(4), f32(4), buf.subarray(0, 4), buf.subarray(3, 7), 0.9, 0.999, 1e-8, 0, 1, 1, 1), /output 'm' must not share memory with output 'v'/);
    const x = f32(24);
    r(() => a().bnForwardTrain(2, 3, 4, 1e-5, 0.1, x, f32(3), f32(3), f32(3), f32(3), f32(24), x, new Float64Array(3)), /'y' must not share memory with input 'x'/);
    r(() => a().bnBackward(2, 3, 4, true, x, f32(24), f32(3), new Float64Array(3), f32(3), f32(3), x), /'dx' must not share memory with input 'dy'/);
    const idx = new Int32Array(8);
    r(() => a().maxPoolForward(G, f32(32), new Float32Array(idx.buffer), idx), /output 'y' must not share memory with output 'idx'/);
  });

  it('accepts views at byte offsets and SharedArrayBuffers', () => {
    const shared = new Float32Array(new SharedArrayBuffer(4 * 20));
    shared.set([-1, 2, -3, 4, -5], 3);
    const y = new Float32Array(new ArrayBuffer(4 * 9), 4 * 4, 5);
    a().reluForward(shared.subarray(3, 8), y);
    assert.deepEqual([...y], [0, 2, 0, 4, 0]);
    const w = Float32Array.of(1, 2, 3);
    a().sgdUpdate(w, Float32Array.of(1, 1, 1), null, 0.5, 0, 1, 0, true, false);
    assert.deepEqual([...w], [0.5, 1.5, 2.5]);
  });
});
