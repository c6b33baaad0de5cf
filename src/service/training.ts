/**
 * Secure training inside the enclave on the contributors' uploaded data, started by the model owner.
 *
 * POST /train (owner session only) {"model": "<built-in name>" | {ModelConfig}, "epochs": n, "batch": n,
 *   "lr"?: x, "seed"?: n, "optimizer"?: "sgd"|"adam", "momentum"?: x, "weightDecay"?: x, "schedule"?: s}
 * answers 202 {"state": "training"} and trains in the background with train() (nn/trainer.ts) on an
 * executor of the service's training mode — secure: createSecureExecutor launches the three untrusted
 * workers, which see only masked shares. Nothing is written in plaintext: no `save` path is given to the
 * trainer; the finished checkpoint is encoded in memory and handed to `onTrained`, which seals it (and may
 * keep the run's executor to serve predictions: its workers are already up and keyed).
 * POST /train/status (owner) → {"state", "epochs": [per-epoch metrics], "error"?}. Metrics go only to the
 * owner over the encrypted channel; GET /status shows the state and epoch count only.
 *
 * Why the checks: the model spec is a name or an inline JSON config, never a path (the host must not pick
 * files for the enclave to read); numbers are bounded so a request cannot ask for absurd work or memory.
 * The downloaded checkpoint resumes weights, BN statistics and optimizer state but not the data order
 * (the loader state is that of a fresh loader), so it is for inference and fine-tuning, not bit-exact resume.
 */
import { BatchLoader } from '../data/loader.js';
import type { Dataset } from '../data/dataset.js';
import type { Mode } from '../modes/executors.js';
import { captureCheckpoint, encodeCheckpoint } from '../nn/checkpoint.js';
import type { LinearExecutor } from '../nn/executor.js';
import { buildModel } from '../nn/models/index.js';
import { buildOptimizer, buildSchedule, hyperOf, type TrainConfig } from '../nn/train-config.js';
import { type EpochMetrics, train } from '../nn/trainer.js';
import { HttpError } from './http-util.js';

export interface TrainRequest {
  model: string;
  epochs: number;
  batch: number;
  lr?: number;
  seed: number;
  optimizer: 'sgd' | 'adam';
  momentum: number;
  weightDecay: number;
  schedule: string;
}

export function parseTrainRequest(v: unknown): TrainRequest {
  const o = (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
  const bad = (m: string): never => {
    throw new HttpError(400, 'BAD_TRAIN_REQUEST', m);
  };
  const int = (k: string, lo: number, hi: number, d?: number): number => {
    const x = o[k] ?? d;
    if (!Number.isSafeInteger(x) || (x as number) < lo || (x as number) > hi) bad(`"${k}" must be an integer in [${lo}, ${hi}]`);
    return x as number;
  };
  const num = (k: string, lo: number, hi: number, d: number | undefined): number | undefined => {
    const x = o[k] ?? d;
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x > hi) bad(`"${k}" must be a number in [${lo}, ${hi}]`);
    return x as number;
  };
  let model: string;
  if (typeof o.model === 'string' && /^[a-z0-9-]{1,40}$/.test(o.model)) model = o.model;
  else if (typeof o.model === 'object' && o.model !== null) model = JSON.stringify(o.model);
  else model = bad('"model" must be a built-in model name or an inline model config object');
  if (model.length > 64 * 1024) bad('"model" config is larger than 64 KiB');
  const optimizer = o.optimizer ?? 'sgd';
  if (optimizer !== 'sgd' && optimizer !== 'adam') bad('"optimizer" must be sgd or adam');
  const schedule = o.schedule ?? 'cosine';
  if (typeof schedule !== 'string' || schedule.length > 100) bad('"schedule" must be a schedule spec');
  return {
    model,
    epochs: int('epochs', 1, 1000),
    batch: int('batch', 1, 4096, 64),
    lr: num('lr', 0, 10, undefined),
    seed: int('seed', 0, 2 ** 31 - 1, 1),
    optimizer: optimizer as 'sgd' | 'adam',
    momentum: num('momentum', 0, 1, 0.9)!,
    weightDecay: num('weightDecay', 0, 1, 5e-4)!,
    schedule: schedule as string,
  };
}

export type TrainState = 'idle' | 'training' | 'trained' | 'failed';

export class TrainingJob {
  state: TrainState = 'idle';
  epochs: EpochMetrics[] = [];
  planned = 0;
  error: string | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly mode: Mode,
    private readonly makeExecutor: (seed: number) => Promise<LinearExecutor>,
    /** receives the checkpoint and the run's executor; returns true if it keeps the executor (for serving) */
    private readonly onTrained: (checkpoint: Uint8Array, executor: LinearExecutor) => Promise<boolean>,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts training on `data` (409 if a run is in progress). Resolves once the run has started. */
  start(req: TrainRequest, data: Dataset): void {
    if (this.state === 'training') throw new HttpError(409, 'BUSY', 'a training run is already in progress');
    const config: TrainConfig = {
      optimizer: req.optimizer, lr: req.lr, momentum: req.momentum, weightDecay: req.weightDecay, nesterov: false,
      schedule: req.schedule, epochs: req.epochs,
    };
    // validate everything that can fail fast before answering 202
    let model;
    try {
      model = buildModel(req.model, { inputShape: [...data.inputShape], numClasses: data.numClasses, seed: req.seed });
      buildSchedule(config);
    } catch (e) {
      throw new HttpError(400, 'BAD_TRAIN_REQUEST', (e as Error).message);
    }
    this.state = 'training';
    this.epochs = [];
    this.planned = req.epochs;
    this.error = undefined;
    this.running = this.run(req, config, data, model).catch((e: Error) => {
      this.state = 'failed';
      this.error = e.message;
      this.log(`training failed: ${e.message}`);
    });
  }

  private async run(req: TrainRequest, config: TrainConfig, data: Dataset, model: ReturnType<typeof buildModel>): Promise<void> {
    const executor = await this.makeExecutor(req.seed);
    let kept = false;
    try {
      model.setExecutor(executor);
      const optimizer = buildOptimizer(config, model.parameters());
      this.log(`training ${model.name} on ${data.train.count} uploaded samples (${this.mode}), ${config.epochs} epoch(s)`);
      const r = await train({
        model, data, optimizer, schedule: buildSchedule(config), epochs: config.epochs, batchSize: req.batch, seed: req.seed,
        augment: false, describe: { model: req.model, data: data.name, mode: this.mode, hyper: hyperOf(config) },
        onEpoch: (m) => {
          this.epochs.push(m);
          this.log(`training epoch ${m.epoch}/${config.epochs} done (${m.seconds.toFixed(1)} s)`);
        },
      });
      const loader = new BatchLoader(data.train, { batchSize: req.batch, shuffle: true, seed: req.seed, norm: r.norm });
      const info = {
        model: req.model, data: data.name, mode: this.mode, seed: req.seed, epoch: r.epoch, step: r.step, epochs: config.epochs,
        batchSize: req.batch, hyper: hyperOf(config), norm: r.norm, numClasses: model.numClasses, inputShape: [...data.inputShape], partial: null,
      };
      kept = await this.onTrained(encodeCheckpoint(captureCheckpoint(model, info, optimizer.getState(), loader.getState())), executor);
      this.state = 'trained';
    } finally {
      if (!kept) await executor.close();
    }
  }

  /** Waits for a run in progress (shutdown, tests). */
  async settled(): Promise<void> {
    await this.running;
  }

  publicStatus(): { state: TrainState; epoch: number; epochs: number } {
    return { state: this.state, epoch: this.epochs.length, epochs: this.planned };
  }

  ownerStatus(): { state: TrainState; epochs: EpochMetrics[]; error?: string } {
    return { state: this.state, epochs: this.epochs, ...(this.error ? { error: this.error } : {}) };
  }
}
