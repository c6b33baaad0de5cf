/**
 * `goten predict --model-file <checkpoint> [--data <spec>] [--mode plain|quantized|secure]
 *                [--topology single|replicated] [--workers 3|2] [--limit n] [--batch n] [--classes] [--json]`
 *
 * Loads a checkpoint (its model config, weights and BatchNorm running statistics), runs the forward pass in
 * inference mode over the data's TEST split through the chosen executor, and prints the accuracy — or, with
 * --classes, one line per example: `<index> <predicted class> <label>`. With --json, stdout carries one JSON
 * object: {mode, data, model, count, correct, accuracy, seconds, imagesPerSecond, overflows[, classes]}.
 *
 * The data defaults to the checkpoint's own data spec, and synthetic data is regenerated with the
 * checkpoint's seed (so `synthetic:…` means the same samples the model was trained and tested on).
 * secure: every conv/linear product goes to three untrusted worker processes (local ones are launched, or
 * `--cluster <config> --party e0|e1` joins a cluster; the replicated topology launches the e1 replica as a
 * copy of this command). Each batch ends with the replicas' digest comparison, as a training step does.
 */
import { type Command, Option } from 'commander';
import { loadDataset } from '../../data/spec.js';
import { BatchLoader } from '../../data/loader.js';
import type { TeeKind } from '../../tee/provider.js';
import { TEE_KINDS } from '../../tee/providers/index.js';
import { loadModelFile, memoSealer } from '../checkpoint-io.js';
import { argmaxRows, inferenceModel } from '../../nn/inference.js';
import { BACKENDS, createModeExecutor, MODES, parseMode } from '../../modes/executors.js';
import { localBelowOption, protocolOption } from '../protocol-option.js';
import { parseProtocol } from '../../protocol/variant.js';
import { intOption } from '../../flags/numbers.js';

interface PredictFlags {
  modelFile: string;
  data?: string;
  mode: string;
  topology: 'single' | 'replicated';
  protocol?: string;
  workers?: string;
  limit?: number;
  batch: number;
  classes: boolean;
  json: boolean;
  backend: string;
  cluster?: string;
  party?: 'e0' | 'e1';
  /** TEE provider that opens a sealed checkpoint. */
  tee?: TeeKind;
  /** Secure mode: ops below this many multiply-adds are computed in the enclave (the command line's default: DEFAULT_LOCAL_BELOW; absent: 0, none). */
  localBelow?: number;
}

export interface PredictResult {
  mode: string;
  data: string;
  model: string;
  count: number;
  correct: number;
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
  overflows: number;
  classes?: number[];
  labels?: number[];
}

export function register(program: Command): void {
  program
    .command('predict')
    .description("classify a data set's test split with a checkpoint (inference mode) and print accuracy or per-example classes")
    .requiredOption('--model-file <checkpoint>', 'a checkpoint written by goten train --save (or goten download), or an ONNX model')
    .option('--data <spec>', "data spec (default: the checkpoint's data)")
    .addOption(new Option('--mode <mode>', 'where products run').choices([...MODES]).default('plain'))
    .addOption(new Option('--topology <t>', 'secure mode: enclave topology').choices(['single', 'replicated']).default('single'))
    .addOption(new Option('--workers <n>', 'secure mode: 3 (online) or 2 (offline masks)').choices(['2', '3']).default('3'))
    .addOption(protocolOption())
    .addOption(localBelowOption())
    .option('--limit <n>', 'classify only the first n test examples', intOption('--limit'))
    .option('--batch <n>', 'inference batch size', intOption('--batch'), 256)
    .option('--classes', 'print one line per example: index, predicted class, label', false)
    .option('--json', 'print one JSON object on stdout', false)
    .addOption(new Option('--tee <kind>', 'TEE provider whose key opens a sealed checkpoint').choices([...TEE_KINDS]).default('simulated'))
    .addOption(new Option('--backend <name>', 'kernel backend').choices([...BACKENDS]).default('auto'))
    .addOption(new Option('--cluster <file>', 'secure mode: join this cluster instead of launching workers').hideHelp())
    .addOption(new Option('--party <name>', 'secure mode: this enclave replica in --cluster').choices(['e0', 'e1']).hideHelp())
    .action(async (f: PredictFlags) => {
      const r = await runPredict(f, process.argv.slice(2));
      if (f.party === 'e1') return; // the replica prints nothing: e0 reports
      if (f.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      if (f.classes) {
        const labels = r.labels ?? [];
        process.stdout.write((r.classes ?? []).map((c, i) => `${i} ${c} ${labels[i]}`).join('\n') + '\n');
      }
      const line =
        `accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.correct}/${r.count}) of ${r.model} on the ${r.data} test split, ` +
        `${r.mode}; ${r.seconds.toFixed(2)} s, ${r.imagesPerSecond.toFixed(1)} images/s` +
        (r.mode === 'plain' ? '' : `, ${r.overflows} overflows`) +
        '\n';
      (f.classes ? process.stderr : process.stdout).write(line);
    });
}

/** The command's work, callable in-process (tests). `argv` is this command's arguments (for the e1 replica). */
export async function runPredict(f: PredictFlags, argv: readonly string[] = []): Promise<PredictResult> {
  const mode = parseMode(f.mode);
  const ckpt = await loadModelFile(f.modelFile, memoSealer(f.tee ?? 'simulated'), (l) => process.stderr.write(`note: ${l}\n`));
  const spec = f.data ?? ckpt.info.data;
  if (spec === '') throw new Error(`${f.modelFile} does not say which data it was trained on: give --data <spec>`);
  let data;
  try {
    data = loadDataset(spec, { limitTrain: 1, limitTest: f.limit, seed: ckpt.info.seed });
  } catch (e) {
    throw new Error(f.data ? (e as Error).message : `the checkpoint's data '${spec}' cannot be loaded here (${(e as Error).message}); give --data <spec>`);
  }
  if (data.inputShape.join() !== ckpt.info.inputShape.join()) {
    throw new Error(`${f.modelFile} takes ${ckpt.info.inputShape.join('×')} inputs, data ${data.name} has ${data.inputShape.join('×')}`);
  }
  if (data.numClasses > ckpt.info.numClasses) {
    throw new Error(`${f.modelFile} has ${ckpt.info.numClasses} outputs, data ${data.name} has ${data.numClasses} classes`);
  }
  const executor = await createModeExecutor({
    mode,
    backend: f.backend,
    seed: ckpt.info.seed,
    topology: f.topology,
    protocol: f.protocol === undefined ? undefined : parseProtocol(f.protocol),
    workers: f.workers === '2' ? 2 : 3,
    cluster: f.cluster,
    party: f.party,
    replicaArgs: argv,
    log: (l) => process.stderr.write(l + '\n'),
    localBelow: f.localBelow,
  });
  try {
    const im = inferenceModel(ckpt, executor, '', f.modelFile);
    const loader = new BatchLoader(data.test, { batchSize: f.batch, shuffle: false, seed: 0, norm: im.norm });
    const classes: number[] = [];
    const labels: number[] = [];
    let correct = 0;
    const t0 = performance.now();
    loader.beginEpoch();
    for (let b = loader.next(); b; b = loader.next()) {
      const logits = await im.model.forward(b.x, false);
      const pred = argmaxRows(logits.data, b.size, im.numClasses);
      await executor.endStep();
      for (let i = 0; i < b.size; i++) {
        if (pred[i] === b.labels[i]) correct++;
        classes.push(pred[i]);
        labels.push(b.labels[i]);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const count = data.test.count;
    return {
      mode,
      data: data.name,
      model: im.name,
      count,
      correct,
      accuracy: correct / count,
      seconds,
      imagesPerSecond: seconds > 0 ? count / seconds : 0,
      overflows: executor.stats().overflows,
      ...(f.classes ? { classes, labels } : {}),
    };
  } finally {
    await executor.close();
  }
}
