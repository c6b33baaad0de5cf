/**
 * `goten bench step --model vgg11 --batch 32 [--json] [--steps 2] [--warmup 1]
 *   [--modes pure-enclave,quantized,secure-online,secure-online-goten,…] [--transport tcp|tls] [--layers]`
 *
 * One training step (forward, loss, backward, SGD update) of the model, timed in
 * each mode on this machine, one mode after the other (step-modes.ts; the secure
 * modes run the lean protocol, the `-goten` ones the paper's). Per mode and per
 * measured step (after the warm-up steps):
 *   wallMs          wall time of the step
 *   enclaveBusyMs   CPU time of this process (the enclave: user + system, all threads;
 *                   what a real TEE pays) — also split into user and system (socket I/O)
 *   linear / non-linear (wall and CPU), per layer forward and backward (step-instrument.ts;
 *                   the loss and the optimizer count as non-linear)
 *   workers         busy time (computing) and process CPU time of each worker, per step
 *   bytes, rounds   frame bytes sent to / received from each worker (connection counters)
 *                   and the protocol's formula (protocol/traffic.ts) beside them
 *   elementsMoved   tensor elements through the enclave per step (the formula's), and
 *   nsPerElement    enclave CPU per element moved
 *   enclaveBoundImagesPerHour  batch ÷ enclave CPU per step: the throughput if the
 *                   workers were infinitely fast
 *   overflows       attempts re-run after the wrap-around guard fired
 *   offline         secure-offline only: the offline phase that precomputed the measured
 *                   steps' mask products (wall and CPU), reported apart from the steps
 * With --json, stdout carries one JSON object per mode (fields above, `layers` as an array).
 */
import { parseVerifyMode } from '../src/protocol/product-verifier.js';
import type { Command } from 'commander';
import { getBackend, nativeAvailability } from '../src/backend/index.js';
import { loadNativeAddon } from '../src/addon/addon.js';
import type { BilinearOp, OperandReuse } from '../src/backend/bilinear.js';
import { type StepPhase, trainStep } from '../src/nn/train-step.js';
import { buildModel } from '../src/nn/models/index.js';
import { SGD } from '../src/nn/optim.js';
import { Rng } from '../src/nn/rng.js';
import { nativeKernelsAvailability } from '../src/protocol/enclave-kernels.js';
import { DEFAULT_LOCAL_BELOW } from '../src/protocol/local-attempt.js';
import { OfflineMaskSource } from '../src/protocol/offline-masks.js';
import { ELEMENT_BYTES, leanTraffic, opTraffic } from '../src/protocol/traffic.js';
import type { ProtocolName } from '../src/protocol/variant.js';
import { Tensor } from '../src/tensor/tensor.js';
import { inputShape, int } from './options.js';
import { LayerTimers, type Span, TimingExecutor, now, since } from './step-instrument.js';
import { DEFAULT_STEP_MODES, type ModeRig, STEP_MODES, type StepMode, openMode, secureMode } from './step-modes.js';
import { type Pinning, pinEnclave, unpinEnclave } from './pinning.js';
import { printStepTables } from './step-report.js';
import type { StepResult } from './step-result.js';
import { writeBenchReport } from '../src/report/bench-report.js';

interface StepFlags {
  model: string;
  batch: string;
  steps: string;
  warmup: string;
  modes: string;
  transport: string;
  seed: string;
  /** --verify: all | sample | off. */
  verify: string;
  enclaveThreads: string;
  /** commander's --no-pin */
  pin: boolean;
  /** --local-below: ops smaller than this many multiply-adds stay in the enclave. */
  localBelow: string;
  json?: boolean;
  layers?: boolean;
  report?: string;
}

function parseModes(list: string): StepMode[] {
  const modes = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of modes) if (!(STEP_MODES as readonly string[]).includes(m)) throw new RangeError(`--modes: unknown mode '${m}' (expected ${STEP_MODES.join(', ')})`);
  return modes as StepMode[];
}

/**
 * Formula bytes (tensor payloads only) per worker for the listed ops, one attempt each (a retry after an
 * overflow adds its own traffic): goten 4 bytes per element; lean 3, with an operand sent when the layer did
 * not mark it reused.
 */
function formulaBytes(ops: readonly { op: BilinearOp; reuse: OperandReuse }[], workers: number, protocol: ProtocolName): { sent: number; received: number }[] {
  const out = Array.from({ length: workers }, () => ({ sent: 0, received: 0 }));
  for (const { op, reuse } of ops) {
    const t = protocol === 'lean' ? leanTraffic(op, !reuse.a, !reuse.b) : opTraffic(op);
    for (let w = 0; w < workers; w++) {
      out[w].sent += ELEMENT_BYTES[protocol] * t[w].inElements;
      out[w].received += ELEMENT_BYTES[protocol] * t[w].outElements;
    }
  }
  return out;
}

async function runMode(mode: StepMode, f: StepFlags, rig: ModeRig, pinned: Pinning | null): Promise<StepResult> {
  const batch = int(f.batch, '--batch', 1);
  const steps = int(f.steps, '--steps', 1);
  const warmup = int(f.warmup, '--warmup', 0);
  const seed = int(f.seed, '--seed', 0);
  const timing = new TimingExecutor(rig.executor);
  const shape = inputShape(f.model);
  const model = buildModel(f.model, { inputShape: shape, numClasses: 10, seed, executor: timing });
  const timers = new LayerTimers(model, timing);
  const rng = new Rng(seed + 1);
  const x = new Tensor([batch, ...shape]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  const y = new Int32Array(batch).map(() => rng.int(10));
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const lossOpt = { wallMs: 0, cpuMs: 0 };
  const ops: { op: BilinearOp; reuse: OperandReuse }[] = [];
  const origRun = timing.run.bind(timing);
  let recording = false;
  timing.run = (op, tag, a, b, c, opts = {}) => {
    // the formula counts outsourced ops only (an op kept in the enclave sends nothing)
    if (recording && !rig.secure?.isLocal(op)) ops.push({ op, reuse: opts.reuse ?? { a: false, b: false } });
    return origRun(op, tag, a, b, c, opts);
  };
  // the loss and the update are timed apart from the layers; no end of step: the offline phase is run
  // (and timed) on its own below, and warm-up steps only teach the source their ops (learnStep)
  let t0 = now();
  const add = (d: Span): void => {
    lossOpt.wallMs += d.wallMs;
    lossOpt.cpuMs += d.cpuMs;
  };
  const onPhase = (p: StepPhase): void => {
    if (p === 'forward' || p === 'backward') t0 = now();
    else if (p === 'loss' || p === 'update') add(since(t0));
  };
  const step = async (): Promise<void> => {
    await trainStep(model, opt, x, y, { endStep: false, onPhase });
  };
  const src = rig.secure?.maskSource;
  const offlineSource = src instanceof OfflineMaskSource && rig.secure ? src : null;
  for (let s = 0; s < warmup; s++) {
    await step();
    // a step ends (as the trainer's executor.endStep does): the source learns that step's ops
    offlineSource?.learnStep(rig.secure!.attempts);
  }
  let offline: StepResult['offline'] = null;
  if (offlineSource && rig.secure) {
    const r = await offlineSource.precomputeSteps(steps, rig.secure.attempts);
    offline = { phaseMs: r.ms, phaseCpuMs: r.cpuMs, attempts: r.attempts, bytes: r.bytes, onDemand: 0, served: 0 };
  }
  timers.reset();
  Object.assign(lossOpt, { wallMs: 0, cpuMs: 0 });
  const w0 = await rig.workerStats();
  const tr0 = rig.traffic();
  const stats0 = rig.executor.stats();
  const mask0 = rig.secure?.maskStats();
  const verify0 = rig.secure?.verifyStats() ?? null;
  const wall: number[] = [];
  const busy: number[] = [];
  let user = 0;
  let sys = 0;
  recording = true;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await step();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    busy.push((c.user + c.system) / 1000);
    user += c.user / 1000;
    sys += c.system / 1000;
  }
  recording = false;
  const w1 = await rig.workerStats();
  const tr1 = rig.traffic();
  const stats1 = rig.executor.stats();
  const mask1 = rig.secure?.maskStats();
  const verify1 = rig.secure?.verifyStats() ?? null;
  if (offline && mask0 && mask1) {
    offline.onDemand = mask1.onDemand - mask0.onDemand;
    offline.served = mask1.served - mask0.served;
  }
  const secure = secureMode(mode);
  const formula = secure ? formulaBytes(ops, tr1.length, secure.protocol) : [];
  const elementsMoved = secure ? formula.reduce((a, f) => a + f.sent + f.received, 0) / ELEMENT_BYTES[secure.protocol] / steps : 0;
  const busyPerStep = busy.reduce((a, b) => a + b, 0) / steps;
  const { linear, nonLinear } = timers.totals();
  nonLinear.wallMs += lossOpt.wallMs;
  nonLinear.cpuMs += lossOpt.cpuMs;
  const per = (v: number) => v / steps;
  const perSpan = (sp: Span): Span => ({ wallMs: per(sp.wallMs), cpuMs: per(sp.cpuMs) });
  const layers = timers.rows
    .map((r) => ({ layer: r.layer, type: r.type, fwdLinear: perSpan(r.fwdLinear), fwdNonLinear: perSpan(r.fwdNonLinear), bwdLinear: perSpan(r.bwdLinear), bwdNonLinear: perSpan(r.bwdNonLinear) }))
    .concat([{ layer: 'loss+sgd', type: 'loss/optimizer', fwdLinear: perSpan({ wallMs: 0, cpuMs: 0 }), fwdNonLinear: perSpan(lossOpt), bwdLinear: perSpan({ wallMs: 0, cpuMs: 0 }), bwdNonLinear: perSpan({ wallMs: 0, cpuMs: 0 }) }]);
  return {
    bench: 'step',
    mode,
    model: f.model,
    batch,
    steps,
    transport: rig.secure ? f.transport : null,
    kernels: rig.secure ? rig.secure.kernels : null,
    blas: nativeAvailability().blas ?? null,
    wallMs: per(wall.reduce((a, b) => a + b, 0)),
    enclaveBusyMs: per(busy.reduce((a, b) => a + b, 0)),
    enclaveUserMs: per(user),
    enclaveSysMs: per(sys),
    wallMsPerStep: wall,
    enclaveBusyMsPerStep: busy,
    linear: perSpan(linear),
    nonLinear: perSpan(nonLinear),
    workers: w1.map((w, i) => ({ party: w.party, ops: (w.ops - w0[i].ops) / steps, busyMs: per(w.busyMs - w0[i].busyMs), cpuMs: per(w.cpuMs - w0[i].cpuMs) })),
    bytes: tr1.map((t, i) => ({
      party: t.peer,
      sent: per(t.sent.bytes - tr0[i].sent.bytes),
      received: per(t.received.bytes - tr0[i].received.bytes),
      formulaSent: per(formula[i].sent),
      formulaReceived: per(formula[i].received),
    })),
    rounds: per(tr1.reduce((a, t, i) => a + t.rounds - tr0[i].rounds, 0)),
    pinned,
    protocol: secure?.protocol ?? null,
    elementsMoved,
    nsPerElement: elementsMoved > 0 ? (busyPerStep * 1e6) / elementsMoved : null,
    enclaveBoundImagesPerHour: (batch * 3.6e6) / busyPerStep,
    overflows: stats1.overflows - stats0.overflows,
    ops: per(stats1.ops - stats0.ops),
    localBelow: rig.secure ? rig.secure.localBelow : null,
    verifyMs: verify0 && verify1 ? per(verify1.ms - verify0.ms) : null,
    verify: rig.secure ? f.verify : null,
    offline,
    layers,
  };
}

async function run(f: StepFlags): Promise<void> {
  const modes = parseModes(f.modes);
  if (f.transport !== 'tcp' && f.transport !== 'tls') throw new RangeError(`--transport must be tcp or tls, got '${f.transport}'`);
  const nat = nativeAvailability();
  if (!nat.available) process.stderr.write(`goten bench step: WARNING: native backend unavailable (${nat.reason}); timings use the js reference\n`);
  // the addon's fallback GEMM makes pure-enclave (and the workers) slower than with OpenBLAS: a ratio measured on it is not comparable
  if (nat.blas === 'builtin') {
    process.stderr.write(
      'goten bench step: WARNING: the native addon was built without OpenBLAS (its built-in GEMM is slower), so pure-enclave is ' +
        'slower than it should be; apt-get install -y libopenblas-dev && npm run build:native\n',
    );
  }
  const backend = getBackend('auto');
  const addon = loadNativeAddon();
  if (addon.ok) addon.addon.setThreads(int(f.enclaveThreads, '--enclave-threads', 1));
  const k = nativeKernelsAvailability();
  const pinned = f.pin ? pinEnclave() : null;
  process.stderr.write(
    `bench step: ${f.model}, batch ${f.batch}, ${f.warmup} warm-up + ${f.steps} measured steps per mode; enclave backend ${backend.name} ` +
      `(${nat.blas ? `${nat.blas} GEMM, ` : ''}${f.enclaveThreads} BLAS thread), enclave kernels ${k.available ? `native (${k.aes})` : `js (${k.reason})`}, workers ${f.transport}, ` +
      `ops below ${f.localBelow} multiply-adds in the enclave; ` +
      (pinned ? `enclave on CPU ${pinned.enclave}, workers on CPU ${pinned.workers}` : 'processes not pinned') +
      '\n',
  );
  const results: StepResult[] = [];
  for (const mode of modes) {
    const t0 = performance.now();
    const rig = await openMode(mode, {
      backend,
      seed: Number(f.seed),
      transport: f.transport,
      workerCpus: pinned?.workers,
      verify: parseVerifyMode(f.verify),
      localBelow: int(f.localBelow, '--local-below', 0),
    });
    try {
      const r = await runMode(mode, f, rig, pinned);
      results.push(r);
      if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
      const v = r.verifyMs === null ? '' : `, ${r.verifyMs.toFixed(0)} ms/step verifying (${r.verify})`;
      process.stderr.write(`  ${mode}: ${r.wallMs.toFixed(0)} ms/step wall, ${r.enclaveBusyMs.toFixed(0)} ms/step enclave CPU${v} (${((performance.now() - t0) / 1000).toFixed(1)} s for the mode)\n`);
    } finally {
      await rig.close();
    }
  }
  if (pinned) unpinEnclave();
  if (!f.json) printStepTables(results, f.layers === true);
  if (f.report) writeBenchReport(f.report, results);
}

export function register(bench: Command): void {
  bench
    .command('step')
    .description('one training step per mode: pure-enclave, quantized, secure-online/-offline (lean protocol; 3 or 2 workers), secure-online-goten/-offline-goten (the paper\'s)')
    .option('--model <name>', 'built-in model', 'vgg11')
    .option('--batch <n>', 'batch size', '32')
    .option('--steps <n>', 'measured steps per mode', '3')
    .option('--warmup <n>', 'warm-up steps per mode (not measured: buffers, pools and the JIT settle)', '2')
    .option('--modes <list>', `comma-separated modes (${STEP_MODES.join(', ')})`, DEFAULT_STEP_MODES.join(','))
    .option('--transport <t>', 'secure modes: tcp or tls between enclave and workers', 'tcp')
    .option('--seed <n>', 'seed of model, data and quantization noise', '1')
    .option('--verify <m>', 'secure modes: verified products, all | sample | off (the verify column: enclave ms per step spent on it)', 'off')
    .option('--enclave-threads <n>', 'BLAS threads of the enclave process', '1')
    .option('--local-below <n>', 'secure modes: compute ops smaller than n multiply-adds (√(a·b·c)) in the enclave instead of outsourcing them, as goten train does (0: none)', String(DEFAULT_LOCAL_BELOW))
    .option('--no-pin', 'do not pin the enclave to CPU 0 and the workers to the other CPUs (taskset)')
    .option('--layers', 'also print the per-layer table (the JSON always has it)', false)
    .option('--json', 'one JSON object per mode on stdout', false)
    .option('--report <file>', 'also write an HTML page with the per-layer time bars (docs/report.md)')
    .action((f: StepFlags) => run(f));
}
