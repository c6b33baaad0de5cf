/**
 * The `plain` execution mode: every bilinear product C = f(A, B) in float32 on
 * a Backend (the native addon's sgemm where it is built). Timed, this is the
 * pure-enclave baseline the secure protocol's speed-up is measured against.
 */
import type { Backend } from '../backend/backend.js';
import { applyBilinearF32, type BilinearOp } from '../backend/bilinear.js';
import type { ExecutorStats, LinearExecutor, OpTag } from './executor.js';

export class PlainExecutor implements LinearExecutor {
  readonly mode = 'plain' as const;
  private ops = 0;

  constructor(readonly backend: Backend) {}

  /** c = f(a, b) in float32 (see backend/bilinear.ts for the op table); synchronous. */
  run(op: BilinearOp, _tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array): void {
    applyBilinearF32(this.backend, op, a, b, c);
    this.ops++;
  }

  /** Plain float32 products never wrap, so `overflows` stays 0. */
  stats(): ExecutorStats {
    return { ops: this.ops, overflows: 0 };
  }
}
