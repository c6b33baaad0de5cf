/**
 * `goten bench <what>`: benchmarks print a human table, or JSON lines with --json.
 * Each benchmark module under bench/ exports `register(bench: Command)`.
 */
import type { Command } from 'commander';
import { register as kernels } from '../../../bench/kernels.js';
import { register as transport } from '../../../bench/transport.js';
import { register as step } from '../../../bench/step.js';
import { register as layers } from '../../../bench/layers.js';
import { register as memory } from '../../../bench/memory.js';
import { register as sweeps } from '../../../bench/sweeps.js';

type BenchRegistrar = (bench: Command) => void;

const benchRegistrars: BenchRegistrar[] = [
  // (bench modules are appended here)
  kernels,
  transport,
  step,
  layers,
  memory,
  sweeps,
];

export function register(program: Command): void {
  const bench = program.command('bench').description('run benchmarks (table by default, JSON lines with --json)');
  for (const r of benchRegistrars) r(bench);
}
