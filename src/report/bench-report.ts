/**
 * `goten bench step --report bench.html`: the benchmark's results as a page with, per mode, stacked bars
 * of each layer's enclave CPU time per step (forward/backward × linear/non-linear) and the summary table.
 * Takes the results as plain data, so it does not depend on the benchmark's code.
 */
import { benchHtml } from './html.js';
import { writeAtomic } from './recorder.js';

interface Span {
  wallMs: number;
  cpuMs: number;
}

/** The fields of a `goten bench step` result the page reads. */
export interface BenchStepLike {
  mode: string;
  model: string;
  batch: number;
  steps: number;
  wallMs: number;
  enclaveBusyMs: number;
  linear: Span;
  nonLinear: Span;
  bytes: { party: string; sent: number; received: number }[];
  overflows: number;
  layers: { layer: string; type: string; fwdLinear: Span; fwdNonLinear: Span; bwdLinear: Span; bwdNonLinear: Span }[];
}

export function writeBenchReport(path: string, results: readonly BenchStepLike[]): void {
  const first = results[0];
  const title = first ? `goten bench step: ${first.model}, batch ${first.batch}` : 'goten bench step';
  writeAtomic(path, benchHtml(results, { title }));
  process.stderr.write(`wrote ${path}\n`);
}
