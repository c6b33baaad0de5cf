/**
 * One mode's result in `goten bench step` (a JSON line with --json). Its own file because both the
 * benchmark (step.ts) and the tables that print it (step-report.ts) need it, and step.ts imports the tables.
 */
import type { ProtocolName } from '../src/protocol/variant.js';
import type { Pinning } from './pinning.js';
import type { Span } from './step-instrument.js';
import type { StepMode, WorkerSnapshot } from './step-modes.js';

export interface StepResult {
  bench: 'step';
  mode: StepMode;
  model: string;
  batch: number;
  steps: number;
  transport: string | null;
  kernels: string | null;
  /** The native addon's GEMM (`openblas` or `builtin`; null without the addon): pure-enclave's speed depends on it. */
  blas: string | null;
  wallMs: number;
  enclaveBusyMs: number;
  enclaveUserMs: number;
  enclaveSysMs: number;
  wallMsPerStep: number[];
  enclaveBusyMsPerStep: number[];
  linear: Span;
  nonLinear: Span;
  workers: WorkerSnapshot[];
  bytes: { party: string; sent: number; received: number; formulaSent: number; formulaReceived: number }[];
  rounds: number;
  /** CPUs of the enclave and of the worker processes when pinned (pinning.ts), else null. */
  pinned: Pinning | null;
  /** Protocol of a secure mode (null otherwise). */
  protocol: ProtocolName | null;
  /** Tensor elements through the enclave per step, from the formula (sent + received); 0 without workers. */
  elementsMoved: number;
  /** Enclave CPU nanoseconds per element moved (null without workers). */
  nsPerElement: number | null;
  /** Images per hour if the workers were infinitely fast: batch ÷ enclave CPU per step. */
  enclaveBoundImagesPerHour: number;
  overflows: number;
  /** Ops per step, those computed in the enclave included. */
  ops: number;
  /** Secure modes: the --local-below limit (ops below it are computed in the enclave, not by the workers); else null. */
  localBelow: number | null;
  /** Secure modes with --verify all|sample: enclave ms per step spent verifying products (included in enclaveBusyMs); else null. */
  verifyMs: number | null;
  /** The --verify mode of a secure mode (null otherwise). */
  verify: string | null;
  offline: { phaseMs: number; phaseCpuMs: number; attempts: number; bytes: number; onDemand: number; served: number } | null;
  layers: { layer: string; type: string; fwdLinear: Span; fwdNonLinear: Span; bwdLinear: Span; bwdNonLinear: Span }[];
}
