/**
 * `goten bench layers [--json] [--model vgg11] [--batch 32] [--reps 3]`: for every
 * linear op of one training step (forward, input gradient, weight gradient of each
 * conv/linear layer; CIFAR shapes), the enclave's own time for the secure op against
 * the enclave computing the same op itself in float32 — the paper's "linear layers
 * up to 40×".
 *
 *   plain         C = f(A, B) in float32 on the native backend (the pure-enclave op)
 *   lean          the enclave's share of the lean protocol's op: quantize + mask (S0 + D) +
 *                 pack each operand version the first time the step uses it (an op whose
 *                 operands the workers already hold prepares nothing), and reconstruct +
 *                 dequantize S (packed, checked on the way) with the output mask T
 *   lean offline  the same with two workers: S + Z̃ (unsealed, AES-256-GCM), no mask draw
 *   goten         the paper's op: quantize + mask + share both operands (prepareAttempt),
 *                 check worker 2's part, reconstruct + dequantize with CM0 + CM1 + CMZ,
 *                 checking the parts of workers 0 and 1 on the way
 * Workers, sockets and their copies are excluded (the parts are random centred tensors
 * of the right size, as a worker would send). Operands are the real tensors of one VGG
 * step. Times are CPU time of this process (median of the reps), wall in the JSON too.
 * With --json: one object per op, then {"summary":…}.
 */
import type { Command } from 'commander';
import { type BilinearOp, type OperandReuse, applyBilinearF32, bilinearSizes, operandKinds } from '../src/backend/bilinear.js';
import { getBackend } from '../src/backend/index.js';
import { loadNativeAddon } from '../src/addon/addon.js';
import { DelegatingExecutor, type OpTag, type RunOptions } from '../src/nn/executor.js';
import { softmaxCrossEntropy } from '../src/nn/loss.js';
import { buildModel } from '../src/nn/models/index.js';
import { PlainExecutor } from '../src/nn/plain-executor.js';
import { Rng } from '../src/nn/rng.js';
import { NamedBuffers } from '../src/backend/named-buffers.js';
import { enclaveKernels } from '../src/protocol/enclave-kernels.js';
import { maskStream, prepareAttempt } from '../src/protocol/enclave-op.js';
import { deriveStreamKeys, generateMasterSecret } from '../src/protocol/key-schedule.js';
import { operandRef, operandStream } from '../src/protocol/lean-op.js';
import { OfflineMaskSource } from '../src/protocol/offline-masks.js';
import type { OpAttempt } from '../src/protocol/op-attempt.js';
import { noiseKeyFromSeed, noiseStreamId } from '../src/protocol/op-quantize.js';
import type { OperandUse } from '../src/protocol/operands.js';
import { FEEDS_SINGLE } from '../src/protocol/feeds.js';
import { Tensor } from '../src/tensor/tensor.js';
import { inputShape, int } from './options.js';
import { type Span, median, now, since } from './step-instrument.js';
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
  reuse: OperandReuse;
  a: Float32Array;
  b: Float32Array;
}

/** Runs the products in float32 and keeps a copy of every op, its operands and what the layer reuses. */
class RecordingPlain extends DelegatingExecutor {
  readonly ops: Recorded[] = [];
  constructor(override readonly inner: PlainExecutor) {
    super(inner);
  }
  override run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts: RunOptions = {}): void {
    this.ops.push({ op, tag, reuse: opts.reuse ?? { a: false, b: false }, a: a.slice(), b: b.slice() });
    this.inner.run(op, tag, a, b, c, opts);
  }
}

function gflop(op: BilinearOp): number {
  const s = bilinearSizes(op);
  return (2 * s.c * s.k) / 1e9;
}

const COLUMNS = ['plain', 'lean', 'leanOffline', 'goten'] as const;
type Column = (typeof COLUMNS)[number];

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
  const pool = new NamedBuffers();
  const rows: string[][] = [['layer', 'pass', 'GFLOP', 'plain ms', 'lean ms', 'plain/lean', 'lean offline ms', 'goten ms', 'plain/goten']];
  const totals: Record<Column, number> = { plain: 0, lean: 0, leanOffline: 0, goten: 0 };
  // one source for all ops (its buffers stay warm, as in a run); chunks are keyed by layer/pass/attempt
  const offline = new OfflineMaskSource({ protocol: 'lean', keys, backend, kernels, budgetBytes: 0 });
  for (const r of rec.ops) {
    const sz = bilinearSizes(r.op);
    const c = new Float32Array(sz.c);
    const parts = [0, 1, 2].map((i) => kernels.fillCentred({ key: keys.CM0, id: BigInt(1000 + i) }, new Int32Array(sz.c)));
    const packedS = kernels.pack(parts[0], new Uint8Array(3 * sz.c));
    // an operand version per repetition, fresh unless the layer reuses it (the workers then hold it)
    const uses = (version: number): [OperandUse, OperandUse] => {
      const [ka, kb] = operandKinds(r.op.pass);
      const use = (kind: typeof ka, x: Float32Array, reused: boolean): OperandUse => ({ kind, version, exp: kernels.exponent(x), headroom: 0, fresh: !reused });
      return [use(ka, r.a, r.reuse.a), use(kb, r.b, r.reuse.b)];
    };
    const leanPrep = (at: OpAttempt, [ua, ub]: [OperandUse, OperandUse]) => {
      for (const [v, use, tag] of [[r.a, ua, 'a'], [r.b, ub, 'b']] as const) {
        if (!use.fresh) continue;
        const packed = pool.uint8(`l.${tag}`, 3 * v.length);
        kernels.quantizeMaskPack(v, use.exp, { key: noiseKey, id: noiseStreamId(at.layer, use) }, operandStream(keys.S0, at.layer, use), operandStream(keys.D, at.layer, use), null, packed);
      }
    };
    await offline.precompute(
      Array.from({ length: reps }, (_, k) => {
        const [ua, ub] = uses(1000 + k);
        return { op: r.op, layer: r.tag.index, attempt: 1000 + k, operands: [operandRef(ua), operandRef(ub)] };
      }),
    );
    const t: Record<Column, Span[]> = { plain: [], lean: [], leanOffline: [], goten: [] };
    for (let k = 0; k < reps; k++) {
      let t0 = now();
      applyBilinearF32(backend, r.op, r.a, r.b, c);
      t.plain.push(since(t0));

      const at: OpAttempt = { op: r.op, layer: r.tag.index, attempt: k };
      t0 = now();
      const lu = uses(k);
      leanPrep(at, lu);
      kernels.reconstructDequantize([packedS], [maskStream(keys, 'T', at)], lu[0].exp + lu[1].exp - 12, c, 1);
      t.lean.push(since(t0));

      const atOff: OpAttempt = { ...at, attempt: 1000 + k, operands: [operandRef(uses(1000 + k)[0]), operandRef(uses(1000 + k)[1])] };
      t0 = now();
      const ou = uses(1000 + k);
      leanPrep(atOff, ou);
      const z = await offline.take(atOff, 0, sz.c);
      kernels.reconstructDequantize([packedS, z.data], [], ou[0].exp + ou[1].exp - 12, c, 1);
      z.release();
      t.leanOffline.push(since(t0));

      t0 = now();
      const [ga, gb] = uses(k).map((u) => ({ ...u, fresh: true }));
      prepareAttempt(FEEDS_SINGLE, keys, noiseKey, at, ga, gb, r.a, r.b, pool, kernels);
      kernels.isCentred(parts[2]); // worker 2's part is checked on receipt; 0 and 1 inside the reconstruction
      const masks = (['CM0', 'CM1', 'CMZ'] as const).map((m) => maskStream(keys, m, at));
      kernels.reconstructDequantize(parts, masks, ga.exp + gb.exp - 12, c, 2);
      t.goten.push(since(t0));
    }
    const m = Object.fromEntries(COLUMNS.map((col) => [col, median(t[col].map((s) => s.cpuMs))])) as Record<Column, number>;
    const wall = Object.fromEntries(COLUMNS.map((col) => [col, median(t[col].map((s) => s.wallMs))])) as Record<Column, number>;
    for (const col of COLUMNS) totals[col] += m[col];
    const row = { layer: r.tag.layer, kind: r.op.layer, pass: r.op.pass, gflop: gflop(r.op), a: sz.a, b: sz.b, c: sz.c, k: sz.k, reuse: r.reuse };
    if (f.json) {
      process.stdout.write(
        JSON.stringify({
          bench: 'layers',
          ...row,
          plainMs: m.plain,
          leanMs: m.lean,
          leanOfflineMs: m.leanOffline,
          gotenMs: m.goten,
          plainWallMs: wall.plain,
          leanWallMs: wall.lean,
          leanOfflineWallMs: wall.leanOffline,
          gotenWallMs: wall.goten,
        }) + '\n',
      );
    }
    const ratio = (p: number, q: number) => `${(p / q).toFixed(1)}×`;
    rows.push([`${r.tag.layer} (${r.op.layer})`, r.op.pass, gflop(r.op).toFixed(3), m.plain.toFixed(2), m.lean.toFixed(2), ratio(m.plain, m.lean), m.leanOffline.toFixed(2), m.goten.toFixed(2), ratio(m.plain, m.goten)]);
  }
  await offline.close();
  const ratio = (p: number, q: number) => `${(p / q).toFixed(1)}×`;
  rows.push(['total', '', '', totals.plain.toFixed(1), totals.lean.toFixed(1), ratio(totals.plain, totals.lean), totals.leanOffline.toFixed(1), totals.goten.toFixed(1), ratio(totals.plain, totals.goten)]);
  if (f.json) {
    process.stdout.write(
      JSON.stringify({ summary: 'layers', model: f.model, batch, plainMs: totals.plain, leanMs: totals.lean, leanOfflineMs: totals.leanOffline, gotenMs: totals.goten }) + '\n',
    );
  } else {
    process.stdout.write(`\n${f.model}, batch ${batch}: enclave CPU ms per linear op, plain float32 vs the enclave's share of the secure op\n\n`);
    process.stdout.write(table(rows));
    process.stdout.write(
      `\nall linear ops of a step: ${ratio(totals.plain, totals.lean)} (lean), ${ratio(totals.plain, totals.leanOffline)} (lean offline), ` +
        `${ratio(totals.plain, totals.goten)} (goten) less enclave CPU than float32 in the enclave\n`,
    );
  }
}

export function register(bench: Command): void {
  bench
    .command('layers')
    .description("per linear op: the enclave's time for the secure op (lean and the paper's) vs computing it itself in float32")
    .option('--model <name>', 'built-in model', 'vgg11')
    .option('--batch <n>', 'batch size', '32')
    .option('--reps <n>', 'repetitions per op (median)', '3')
    .option('--json', 'one JSON object per op on stdout', false)
    .action((f: LayersFlags) => run(f));
}
