/**
 * `goten bench layers [--json] [--model vgg11] [--batch 32] [--reps 3]`: for every
 * linear op of one training step (forward, input gradient, weight gradient of each
 * conv/linear layer; CIFAR shapes), the enclave's own time for the secure op against
 * the enclave computing the same op itself in float32 — the paper's "linear layers
 * up to 40×" (goten-spec §8.6).
 *
 *   plain           C = f(A, B) in float32 on the native backend (the pure-enclave op)
 *   secure-online   the enclave's share of the protocol op: quantize + mask + share both
 *                   operands (prepareAttempt), check worker 2's part, and reconstruct +
 *                   dequantize with the output masks CM0 + CM1 + CMZ, checking the
 *                   parts of workers 0 and 1 on the way (as the secure executor does)
 *   secure-offline  the same with two workers: unseal Z̃ (AES-256-GCM), reconstruct with
 *                   no mask draws
 * Workers, sockets and their copies are excluded (the parts are random centred tensors
 * of the right size, as a worker would send). Operands are the real tensors of one VGG
 * step. Times are CPU time of this process (median of the reps), wall in the JSON too.
 * With --json: one object per op, then {"summary":…}.
 */
import type { Command } from 'commander';
import { type BilinearOp, applyBilinearF32, bilinearSizes, operandKinds } from '../src/backend/bilinear.js';
import { getBackend } from '../src/backend/index.js';
import { loadNativeAddon } from '../src/backend/native/addon.js';
import type { ExecutorStats, LinearExecutor, OpTag } from '../src/nn/executor.js';
import { softmaxCrossEntropy } from '../src/nn/loss.js';
import { buildModel } from '../src/nn/models/index.js';
import { PlainExecutor } from '../src/nn/plain-executor.js';
import { Rng } from '../src/nn/rng.js';
import { BufferPool } from '../src/protocol/buffer-pool.js';
import { enclaveKernels } from '../src/protocol/enclave-kernels.js';
import { maskStream, prepareAttempt } from '../src/protocol/enclave-op.js';
import { deriveStreamKeys, generateMasterSecret } from '../src/protocol/key-schedule.js';
import { OfflineMaskSource } from '../src/protocol/offline-masks.js';
import { noiseKeyFromSeed } from '../src/protocol/op-quantize.js';
import type { OperandUse } from '../src/protocol/operands.js';
import { FEEDS_SINGLE } from '../src/protocol/secure-executor.js';
import type { OpAttempt } from '../src/protocol/op-attempt.js';
import { Tensor } from '../src/tensor/tensor.js';
import { inputShape, int } from './options.js';
import { type Span, now, since } from './step-instrument.js';
import { table } from './step-report.js';

interface LayersFlags {
  model: string;
  batch: string;
  reps: string;
  json?: boolean;
}

interface Recorded {
  op: BilinearOp;
  tag: OpTag;
  a: Float32Array;
  b: Float32Array;
}

/** Runs the products in float32 and keeps a copy of every op and its operands. */
class RecordingPlain implements LinearExecutor {
  readonly mode = 'plain' as const;
  readonly ops: Recorded[] = [];
  constructor(readonly inner: PlainExecutor) {}
  run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array): void {
    this.ops.push({ op, tag, a: a.slice(), b: b.slice() });
    this.inner.run(op, tag, a, b, c);
  }
  stats(): ExecutorStats {
    return this.inner.stats();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[s.length >> 1];
}

function gflop(op: BilinearOp): number {
  const s = bilinearSizes(op);
  return (2 * s.c * s.k) / 1e9;
}

async function run(f: LayersFlags): Promise<void> {
  const batch = int(f.batch, '--batch', 1);
  const reps = int(f.reps, '--reps', 1);
  const backend = getBackend('auto');
  const addon = loadNativeAddon();
  if (addon.ok) addon.addon.setThreads(1);
  const kernels = enclaveKernels('auto');
  const shape = inputShape(f.model);
  const rec = new RecordingPlain(new PlainExecutor(backend));
  const model = buildModel(f.model, { inputShape: shape, numClasses: 10, seed: 1, executor: rec });
  const rng = new Rng(2);
  const x = new Tensor([batch, ...shape]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  const { grad } = softmaxCrossEntropy(await model.forward(x, true), new Int32Array(batch).map(() => rng.int(10)));
  await model.backward(grad);
  process.stderr.write(
    `bench layers: ${f.model}, batch ${batch}: ${rec.ops.length} linear ops; plain on ${backend.name} (1 thread), enclave kernels ${kernels.name}; ` +
      `CPU ms, median of ${reps}; workers and transport excluded\n`,
  );
  const keys = deriveStreamKeys(generateMasterSecret());
  const noiseKey = noiseKeyFromSeed(1);
  const pool = new BufferPool();
  const rows: string[][] = [['layer', 'pass', 'GFLOP', 'plain ms', 'online ms', 'plain/online', 'offline ms', 'plain/offline']];
  const totals = { plain: 0, online: 0, offline: 0 };
  let best = 0;
  // one source for all ops (its buffers stay warm, as in a run); chunks are keyed by layer/pass/attempt
  const offline = new OfflineMaskSource({ keys, backend, kernels, budgetBytes: 0 });
  // fresh operand versions every repetition, as in a step's first use of each tensor
  const uses = (r: Recorded, version: number): OperandUse[] =>
    operandKinds(r.op.pass).map((kind, i) => ({ kind, version, exp: kernels.exponent(i === 0 ? r.a : r.b), headroom: 0, fresh: true }));
  for (const r of rec.ops) {
    const sz = bilinearSizes(r.op);
    const c = new Float32Array(sz.c);
    const parts = [0, 1, 2].map((i) => kernels.fillCentred({ key: keys.CM0, id: BigInt(1000 + i) }, new Int32Array(sz.c)));
    await offline.precompute(Array.from({ length: reps }, (_, k) => ({ op: r.op, layer: r.tag.index, attempt: 1000 + k })));
    const t = { plain: [] as Span[], online: [] as Span[], offline: [] as Span[] };
    for (let k = 0; k < reps; k++) {
      let t0 = now();
      applyBilinearF32(backend, r.op, r.a, r.b, c);
      t.plain.push(since(t0));

      const at: OpAttempt = { op: r.op, layer: r.tag.index, attempt: k };
      t0 = now();
      let [ua, ub] = uses(r, k);
      prepareAttempt(FEEDS_SINGLE, keys, noiseKey, at, ua, ub, r.a, r.b, pool, kernels);
      kernels.isCentred(parts[2]); // worker 2's part is checked on receipt; 0 and 1 inside the reconstruction
      const masks = (['CM0', 'CM1', 'CMZ'] as const).map((m) => maskStream(keys, m, at));
      kernels.reconstructDequantize(parts, masks, ua.exp + ub.exp - 12, c, 2);
      t.online.push(since(t0));

      const atOff: OpAttempt = { ...at, attempt: 1000 + k };
      t0 = now();
      [ua, ub] = uses(r, 1000 + k);
      prepareAttempt(FEEDS_SINGLE, keys, noiseKey, atOff, ua, ub, r.a, r.b, pool, kernels);
      const z = await offline.take(atOff, 0, sz.c);
      kernels.reconstructDequantize([parts[0], parts[1], z.data], [], ua.exp + ub.exp - 12, c, 2);
      t.offline.push(since(t0));
    }
    const m = { plain: median(t.plain.map((s) => s.cpuMs)), online: median(t.online.map((s) => s.cpuMs)), offline: median(t.offline.map((s) => s.cpuMs)) };
    const wall = { plain: median(t.plain.map((s) => s.wallMs)), online: median(t.online.map((s) => s.wallMs)), offline: median(t.offline.map((s) => s.wallMs)) };
    totals.plain += m.plain;
    totals.online += m.online;
    totals.offline += m.offline;
    best = Math.max(best, m.plain / m.online);
    const row = { layer: r.tag.layer, kind: r.op.layer, pass: r.op.pass, gflop: gflop(r.op), a: sz.a, b: sz.b, c: sz.c, k: sz.k };
    if (f.json) {
      process.stdout.write(JSON.stringify({ bench: 'layers', ...row, plainMs: m.plain, onlineMs: m.online, offlineMs: m.offline, plainWallMs: wall.plain, onlineWallMs: wall.online, offlineWallMs: wall.offline }) + '\n');
    }
    rows.push([`${r.tag.layer} (${r.op.layer})`, r.op.pass, gflop(r.op).toFixed(3), m.plain.toFixed(2), m.online.toFixed(2), `${(m.plain / m.online).toFixed(1)}×`, m.offline.toFixed(2), `${(m.plain / m.offline).toFixed(1)}×`]);
  }
  await offline.close();
  rows.push(['total', '', '', totals.plain.toFixed(1), totals.online.toFixed(1), `${(totals.plain / totals.online).toFixed(1)}×`, totals.offline.toFixed(1), `${(totals.plain / totals.offline).toFixed(1)}×`]);
  if (f.json) {
    process.stdout.write(JSON.stringify({ summary: 'layers', model: f.model, batch, plainMs: totals.plain, onlineMs: totals.online, offlineMs: totals.offline, bestOnlineRatio: best }) + '\n');
  } else {
    process.stdout.write(`\n${f.model}, batch ${batch}: enclave CPU ms per linear op, plain float32 vs the enclave's share of the secure op\n\n`);
    process.stdout.write(table(rows));
    process.stdout.write(`\nlinear ops up to ${best.toFixed(1)}× (online); all linear ops together ${(totals.plain / totals.online).toFixed(1)}× online, ${(totals.plain / totals.offline).toFixed(1)}× offline\n`);
  }
}

export function register(bench: Command): void {
  bench
    .command('layers')
    .description("per linear op: the enclave's time for the secure op vs computing it itself in float32")
    .option('--model <name>', 'built-in model', 'vgg11')
    .option('--batch <n>', 'batch size', '32')
    .option('--reps <n>', 'repetitions per op (median)', '3')
    .option('--json', 'one JSON object per op on stdout', false)
    .action((f: LayersFlags) => run(f));
}
