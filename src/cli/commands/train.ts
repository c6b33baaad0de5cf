/**
 * `goten train`: trains a model in plain, quantized or secure mode.
 * Progress goes to stderr (a bar on a terminal, lines otherwise); with --json,
 * stdout carries exactly one JSON object per epoch and nothing else.
 */
import { type Command, Option } from 'commander';
import { loadDataset } from '../../data/spec.js';
import { TEE_KINDS } from '../../tee/providers/index.js';
import { checkSavePath, loadCheckpointFile, memoSealer } from '../checkpoint-io.js';
import { DivergenceError, DivergenceGuard } from '../../nn/divergence.js';
import { buildModel, modelRecipe } from '../../nn/models/index.js';
import { formatWarmup, parseWarmup } from '../../nn/schedule.js';
import { type EpochMetrics, train } from '../../nn/trainer.js';
import { BACKENDS, createExecutor, MODES, parseMode, resolveBackend } from '../../modes/executors.js';
import { localBelowOption, opTimeoutOption, protocolOption, reconnectTimeoutOption, verifyOption } from '../protocol-option.js';
import { DEFAULT_VERIFY, parseVerifyMode } from '../../protocol/product-verifier.js';
import { DEFAULT_PROTOCOL, parseProtocol } from '../../protocol/variant.js';
import { addMemoryOptions, memorySummary, parseMemoryBudget, setUpMemory } from '../memory-setup.js';
import { createProgress } from '../progress.js';
import { addReportOptions, type ReportFlags, startRecorder } from '../../report/train-options.js';
import { applyCheckpointDefaults, modelLabel, resolveModelSpec } from '../train-setup.js';
import { buildOptimizer, buildSchedule, hyperOf } from '../../nn/train-config.js';
import { intOption, numOption } from '../../flags/numbers.js';
import { describeRecipe, resolveRecipe, type TrainArgs } from '../train-defaults.js';
import { reportDivergence } from '../train-divergence.js';

const silentProgress = { step() {}, epoch() {}, stop() {} };


/** The per-epoch --json record (accuracies are fractions in [0, 1]). */
export function epochJson(m: EpochMetrics): Record<string, number | string> {
  return {
    epoch: m.epoch,
    loss: m.loss,
    trainAccuracy: m.trainAccuracy,
    testAccuracy: m.testAccuracy,
    imagesPerSecond: m.imagesPerSecond,
    overflows: m.overflows,
    mode: m.mode,
    testLoss: m.testLoss,
    seconds: m.seconds,
    lr: m.lr,
    step: m.step,
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a model (plain float32, quantized reference, or secure)')
    .option('--model <name|config.json>', 'built-in model (mnist-cnn, vgg11, vgg13, vgg16, resnet18) or a JSON config file', 'mnist-cnn')
    .option('--data <spec>', 'mnist | fashion-mnist | idx:<dir> | cifar10:<dir> | synthetic:<C>x<H>x<W>:<classes>', 'mnist')
    .addOption(new Option('--mode <mode>', 'where products run').choices([...MODES]).default('plain'))
    .option('--epochs <n>', 'total epochs (a resumed run continues up to this number)', intOption('--epochs'), 3)
    .option('--batch <n>', "mini-batch size (default: the model's recipe)", intOption('--batch'))
    .option('--seed <n>', 'seed of initialisation, data order, augmentation and quantization noise', intOption('--seed', 0), 1)
    .option('--lr <x>', "base learning rate (default: the model's recipe for sgd, 0.001 for adam)", numOption('--lr'))
    .option('--momentum <x>', "SGD momentum (default: the model's recipe)", numOption('--momentum'))
    .option('--nesterov', 'Nesterov momentum', false)
    .option('--weight-decay <x>', "L2 weight decay (default: the model's recipe)", numOption('--weight-decay'))
    .option('--schedule <s>', "none | step (÷10 every ⌈epochs/3⌉) | cosine | step:<every>:<gamma> | cosine:<min> (default: the model's recipe)")
    .option('--warmup <w>', "linear warm-up: <epochs> (1, 0.5), <n>steps or 0 (default: the model's recipe)", warmupOption)
    .option('--no-guard', 'keep training when the loss diverges (default: stop with a message)')
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'adam']).default('sgd'))
    .addOption(new Option('--backend <name>', 'kernel backend').choices([...BACKENDS]).default('auto'))
    .option('--limit-train <n>', 'use only the first n training samples (synthetic: generate n)', intOption('--limit-train'))
    .option('--limit-test <n>', 'use only the first n test samples (synthetic: generate n)', intOption('--limit-test'))
    .option('--augment', 'random crop + flip (default: on for CIFAR-10 only)')
    .option('--no-augment', 'no augmentation')
    .option('--eval-batch <n>', 'evaluation batch size (default max(batch, 256))', intOption('--eval-batch'))
    .option('--json', 'one JSON object per epoch on stdout', false)
    .option('--save <file>', 'write a checkpoint after every epoch')
    .option('--save-every <n>', 'also checkpoint every n steps', intOption('--save-every'))
    .option('--resume <file>', 'continue a run from its checkpoint (unspecified options come from it)')
    .option('--seal', 'seal checkpoints to the TEE (default in secure mode)')
    .option('--no-seal', 'write plaintext checkpoints')
    .addOption(new Option('--tee <kind>', 'TEE provider whose sealing key seals checkpoints').choices([...TEE_KINDS]).default('simulated'))
    .addOption(new Option('--topology <t>', 'secure mode: enclave topology').choices(['single', 'replicated']).default('single'))
    .addOption(new Option('--workers <n>', 'secure mode: 3 (online) or 2 (offline masks)').choices(['2', '3']).default('3'))
    .addOption(protocolOption())
    .addOption(verifyOption())
    .option('--cluster <file>', 'secure mode: join the workers of this cluster config (default: start local worker processes)')
    .addOption(new Option('--party <name>', 'secure mode: this enclave replica').choices(['e0', 'e1']).default('e0'))
    .addOption(new Option('--transport <t>', 'secure mode, local cluster: channel between the processes').choices(['tls', 'tcp']).default('tls'))
    .addOption(opTimeoutOption())
    .addOption(reconnectTimeoutOption())
    .addOption(localBelowOption());
  addReportOptions(addMemoryOptions(cmd), intOption)
    .action(async (raw: TrainArgs & ReportFlags, cmd: Command) => {
      await runTrain(raw, (k) => {
        const src = cmd.getOptionValueSource(k);
        return src !== undefined && src !== 'default';
      });
    });
}

function warmupOption(v: string): string {
  try {
    return formatWarmup(parseWarmup(v));
  } catch (e) {
    throw new Error(`--warmup: ${(e as Error).message}`);
  }
}

/** Runs `goten train` with parsed flags; `given(key)` tells whether a flag came from the command line. */
export async function runTrain(raw: TrainArgs & Partial<ReportFlags>, given: (key: string) => boolean): Promise<void> {
  // the second enclave replica mirrors e0 silently: no progress, no output, no checkpoint writes
  const replica = raw.party === 'e1';
  if (replica) raw = { ...raw, save: undefined, saveEvery: undefined, json: false, log: undefined, report: undefined };
  if (raw.saveEvery !== undefined && raw.save === undefined) throw new Error('--save-every needs --save <file>');
  if (raw.save !== undefined) checkSavePath(raw.save);
  parseMemoryBudget(raw); // refuse a bad budget before any worker starts
  const sealerOf = memoSealer(raw.tee ?? 'simulated');
  const ckpt = raw.resume === undefined ? undefined : await loadCheckpointFile(raw.resume, sealerOf);
  const merged = ckpt ? applyCheckpointDefaults(raw, ckpt, given) : raw;
  const modelSpec = ckpt && !given('model') ? merged.model : resolveModelSpec(merged.model);
  const recipe = resolveRecipe({ ...merged, model: modelSpec }, modelRecipe(modelSpec), given);
  const flags = recipe.flags;
  const mode = parseMode(flags.mode);
  const seed = flags.seed;
  const backend = await resolveBackend(flags.backend);
  const executor = await createExecutor({
    mode,
    backend,
    seed,
    topology: flags.topology as 'single' | 'replicated',
    protocol: parseProtocol(flags.protocol ?? DEFAULT_PROTOCOL),
    workers: Number(flags.workers) as 2 | 3,
    verify: parseVerifyMode(flags.verify ?? DEFAULT_VERIFY),
    cluster: flags.cluster,
    party: flags.party,
    transport: flags.transport,
    opTimeoutMs: raw.opTimeout === undefined ? undefined : raw.opTimeout * 1000,
    reconnectTimeoutMs: raw.reconnectTimeout === undefined ? undefined : raw.reconnectTimeout * 1000,
    localBelow: raw.localBelow,
    replicaArgs: process.argv.slice(2),
    log: replica ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  const progress = replica ? silentProgress : createProgress({ tty: process.stderr.isTTY === true, totalEpochs: flags.epochs });
  // Ctrl-C: give the terminal back (the bar hides the cursor); the last checkpoint stays valid
  const onSigint = (): void => {
    progress.stop();
    process.stderr.write(`\ninterrupted${flags.save ? `; resume with --resume ${flags.save}` : ''}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    const data = loadDataset(flags.data, { limitTrain: flags.limitTrain, limitTest: flags.limitTest, seed });
    const model = buildModel(flags.model, { inputShape: [...data.inputShape], numClasses: data.numClasses, seed, executor });
    const optimizer = buildOptimizer(flags, model.parameters());
    const memory = await setUpMemory(flags, model, optimizer, backend);
    const hyper = hyperOf(flags);
    const name = modelLabel(flags.model);
    if (!replica) process.stderr.write(
      `training ${name} (${model.parameterCount()} parameters) on ${data.name}: ${data.train.count} train / ${data.test.count} test, ` +
        `${data.inputShape.join('×')}, ${data.numClasses} classes; mode ${mode}, backend ${backend.name}, ` +
        `${describeRecipe(recipe, Number(hyper.lr), name)}, seed ${seed}` +
        (ckpt ? `; resuming from ${raw.resume} at epoch ${ckpt.info.epoch}, step ${ckpt.info.step}` : '') +
        '\n',
    );
    if (ckpt?.info.epochs !== undefined && ckpt.info.epochs !== flags.epochs && flags.schedule !== 'none' && !flags.schedule.startsWith('step:')) {
      process.stderr.write(
        `note: the checkpoint's run planned ${ckpt.info.epochs} epochs; the '${flags.schedule}' schedule now spans ${flags.epochs}, ` +
          'so learning rates differ from the original plan\n',
      );
    }
    const recorder = await startRecorder(
      { log: raw.log, report: raw.report, logEvery: raw.logEvery ?? 10 },
      { label: `${name} ${mode}`, settings: { model: name, data: data.name, mode, backend: backend.name, topology: flags.topology, protocol: mode === 'secure' ? (flags.protocol ?? DEFAULT_PROTOCOL) : null, workers: mode === 'secure' ? Number(flags.workers) : null, epochs: flags.epochs, batch: flags.batch, seed, parameters: model.parameterCount(), train: data.train.count, test: data.test.count, ...hyper }, executor, topology: flags.topology },
    );
    const guard = flags.guard === false ? undefined : new DivergenceGuard({ numClasses: model.numClasses, batchSize: flags.batch });
    const result = await train({
      model,
      data,
      optimizer,
      schedule: buildSchedule(flags),
      epochs: flags.epochs,
      batchSize: flags.batch,
      seed,
      augment: flags.augment,
      evalBatchSize: flags.evalBatch,
      describe: { model: flags.model, data: data.name, mode, hyper },
      save:
        flags.save === undefined
          ? undefined
          : { path: flags.save, everySteps: flags.saveEvery, sealer: (flags.seal ?? mode === 'secure') ? await sealerOf() : undefined },
      resume: ckpt,
      guard,
      onStep: (p) => {
        progress.step(p);
        return recorder?.step(p);
      },
      onEpoch: (m) => {
        progress.epoch(m);
        if (flags.json) process.stdout.write(JSON.stringify(epochJson(m)) + '\n');
        return recorder?.epoch(m);
      },
    }).catch(async (e: unknown) => {
      if (!(e instanceof DivergenceError) || replica) throw e;
      progress.stop();
      process.exitCode = await reportDivergence(e, { lr: Number(hyper.lr), recipe, modelName: name, save: flags.save, sealerOf }, flags.json);
      return null;
    });
    progress.stop();
    const last = result?.epochs.at(-1);
    if (result && last && !replica) {
      const perEpoch = result.epochs.reduce((a, m) => a + m.seconds, 0) / result.epochs.length;
      const line =
        `test accuracy ${(100 * last.testAccuracy).toFixed(2)}% after ${result.epoch} epoch${result.epoch === 1 ? '' : 's'} ` +
        `(${name} on ${data.name}, ${mode}; ${perEpoch.toFixed(1)} s/epoch` +
        (mode === 'plain' ? '' : `, ${result.epochs.reduce((a, m) => a + m.overflows, 0)} overflows`) +
        (flags.save ? `; checkpoint ${flags.save}` : '') +
        ')\n';
      (flags.json ? process.stderr : process.stdout).write(line);
    }
    if (memory && !replica) process.stderr.write(memorySummary(memory) + '\n');
    if (memory) await memory.unsealParameters(); // nothing of this run is left in untrusted storage
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
    await executor.close();
  }
}

