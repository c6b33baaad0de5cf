/**
 * `goten demo [--json]`: the README's main command. Starts every party of a
 * Goten cluster on this machine as a separate process (three untrusted workers
 * talking to the enclave over loopback TLS with pinned keys, after an
 * authenticated key exchange), trains `mnist-cnn` on the bundled MNIST with
 * its conv/linear products outsourced through the secure protocol (those below
 * `--local-below` multiply-adds, as in `goten train`, computed in the enclave),
 * and prints the test accuracy (with --json, the same per-epoch objects as
 * `goten train`).
 */
import { type Command, Option } from 'commander';
import { localBelowOption, opTimeoutOption, protocolOption, reconnectTimeoutOption, verifyOption } from '../protocol-option.js';
import { intOption } from '../../flags/numbers.js';
import type { TrainArgs } from '../train-defaults.js';
import { runTrain } from './train.js';

interface DemoOptions {
  json: boolean;
  epochs: number;
  batch: number;
  seed: number;
  limitTrain?: number;
  limitTest?: number;
  topology: string;
  protocol: string;
  verify: string;
  transport: 'tls' | 'tcp';
  backend: string;
  save?: string;
  cluster?: string;
  party: 'e0' | 'e1';
  opTimeout: number;
  reconnectTimeout: number;
  localBelow: number;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('secure training demo: mnist-cnn on bundled MNIST, enclave + 3 worker processes on localhost')
    .option('--json', 'one JSON object per epoch on stdout', false)
    .option('--epochs <n>', 'epochs over the training set', intOption('--epochs'), 1)
    .option('--batch <n>', 'mini-batch size', intOption('--batch'), 128)
    .option('--seed <n>', 'run seed', intOption('--seed', 0), 1)
    .option('--limit-train <n>', 'train on the first n images only (default: all 60 000)', intOption('--limit-train'))
    .option('--limit-test <n>', 'evaluate on the first n test images only (default: all 10 000)', intOption('--limit-test'))
    .addOption(new Option('--topology <t>', 'one enclave, or two enclave replicas').choices(['single', 'replicated']).default('single'))
    .addOption(protocolOption())
    .addOption(verifyOption())
    .addOption(new Option('--transport <t>', 'channel between the processes').choices(['tls', 'tcp']).default('tls'))
    .addOption(opTimeoutOption())
    .addOption(reconnectTimeoutOption())
    .addOption(localBelowOption())
    .addOption(new Option('--backend <name>', 'kernel backend').choices(['js', 'native', 'auto']).default('auto'))
    .option('--save <file>', 'write the trained model (checkpoint) here')
    // used when the demo starts its own second enclave replica (replicated topology)
    .addOption(new Option('--cluster <file>').hideHelp())
    .addOption(new Option('--party <name>').choices(['e0', 'e1']).default('e0').hideHelp())
    .action(async (o: DemoOptions) => {
      if (o.party === 'e0') process.stderr.write(
        `goten demo: secure training of mnist-cnn on MNIST — enclave (this process) + workers w0, w1, w2 ` +
          `(${o.topology === 'replicated' ? 'plus enclave replica e1, ' : ''}separate processes, ${o.transport} on 127.0.0.1)\n`,
      );
      const flags: TrainArgs = {
        model: 'mnist-cnn',
        data: 'mnist',
        mode: 'secure',
        epochs: o.epochs,
        batch: o.batch,
        seed: o.seed,
        nesterov: false, // momentum, weight decay, schedule, warm-up and lr: the mnist-cnn recipe
        optimizer: 'sgd',
        backend: o.backend,
        limitTrain: o.limitTrain,
        limitTest: o.limitTest,
        json: o.json,
        save: o.save,
        topology: o.topology,
        protocol: o.protocol,
        verify: o.verify,
        workers: '3',
        transport: o.transport,
        opTimeout: o.opTimeout,
        reconnectTimeout: o.reconnectTimeout,
        localBelow: o.localBelow,
        cluster: o.cluster,
        party: o.party,
      };
      await runTrain(flags, (k) => k in flags && flags[k as keyof TrainArgs] !== undefined);
    });
}
