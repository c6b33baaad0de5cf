/**
 * `goten query --to <url> --policy <file> --data <spec | file.gds> [--limit n] [--per-query n]
 *              [--concurrency n] [--form binary|json] [--expect-model <sha256>] [--json]`
 *
 * Querier: verifies the enclave, then sends the data's test split as encrypted queries (several in flight,
 * so the service batches them) and prints the accuracy of the answers. Inputs are sent in the data's natural
 * range (pixel bytes × scale); the enclave normalises them with the model's own statistics.
 */
import { type Command, Option } from 'commander';
import type { QueryForm } from '../../wire/codec.js';
import type { EnclaveClient } from '../../client/enclave-client.js';
import type { Split } from '../../data/dataset.js';
import { type ClientFlags, connectFromFlags, loadDataArg } from '../client-setup.js';
import { intOption } from '../../flags/numbers.js';

interface QueryFlags extends ClientFlags {
  data: string;
  limit?: number;
  perQuery: number;
  concurrency: number;
  form: QueryForm;
  expectModel?: string;
  seed: number;
}

export interface QueryResult {
  model: string;
  count: number;
  correct: number;
  accuracy: number;
  queries: number;
  seconds: number;
  classes: number[];
}

export function register(program: Command): void {
  program
    .command('query')
    .description("querier: classify a data set's test split through a verified enclave service (encrypted both ways)")
    .requiredOption('--to <url>', 'the enclave service')
    .requiredOption('--policy <file>', 'attestation policy the enclave must satisfy')
    .requiredOption('--data <spec|file>', 'data spec or GDS1 file (its test split is sent)')
    .option('--limit <n>', 'only the first n test examples', intOption('--limit'))
    .option('--per-query <n>', 'inputs per query', intOption('--per-query'), 16)
    .option('--concurrency <n>', 'queries in flight', intOption('--concurrency'), 4)
    .addOption(new Option('--form <f>', 'plaintext form inside the envelope').choices(['binary', 'json']).default('binary'))
    .option('--expect-model <sha256>', 'refuse unless the enclave serves this checkpoint')
    .option('--seed <n>', 'seed of synthetic data', intOption('--seed', 0), 1)
    .option('--json', 'print one JSON object', false)
    .action(async (f: QueryFlags) => {
      const r = await runQuery(f);
      if (f.json) process.stdout.write(JSON.stringify({ ...r, classes: undefined }) + '\n');
      else process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.correct}/${r.count}) in ${r.queries} encrypted queries, ${r.seconds.toFixed(2)} s; model ${r.model.slice(0, 16)}…\n`);
    });
}

export async function runQuery(f: QueryFlags): Promise<QueryResult> {
  const data = loadDataArg(f.data, { limitTrain: 1, limitTest: f.limit, seed: f.seed });
  const c = await connectFromFlags(f, false, f.expectModel);
  const t0 = performance.now();
  const r = await classifySplit(c, data.test, f.perQuery, f.concurrency, f.form);
  const correct = r.filter((k, i) => k === data.test.labels[i]).length;
  return {
    model: c.config.model?.digest ?? '',
    count: data.test.count,
    correct,
    accuracy: correct / data.test.count,
    queries: Math.ceil(data.test.count / f.perQuery),
    seconds: (performance.now() - t0) / 1000,
    classes: r,
  };
}

/** Classes of every sample in `s`, `per` inputs per query, `concurrency` queries in flight. */
export async function classifySplit(c: EnclaveClient, s: Split, per: number, concurrency: number, form: QueryForm = 'binary'): Promise<number[]> {
  const size = s.shape[0] * s.shape[1] * s.shape[2];
  const out = new Array<number>(s.count);
  let next = 0;
  const worker = async () => {
    while (next < s.count) {
      const from = next;
      const n = Math.min(per, s.count - from);
      next += n;
      const values = new Float32Array(n * size);
      for (let i = 0; i < n * size; i++) values[i] = s.images[from * size + i] * s.scale;
      const a = await c.predict(values, n, form);
      a.classes.forEach((k, i) => (out[from + i] = k));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return out;
}
