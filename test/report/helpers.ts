/** A short plain training run recorded by RunRecorder (the report tests' data). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../../src/backend/index.js';
import { loadDataset } from '../../src/data/spec.js';
import { buildModel } from '../../src/nn/models/index.js';
import { SGD } from '../../src/nn/optim.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { parseSchedule } from '../../src/nn/schedule.js';
import { train } from '../../src/nn/trainer.js';
import { RunRecorder } from '../../src/report/recorder.js';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'goten-report-'));

export const TINY = JSON.stringify({
  name: 'tiny',
  layers: [{ type: 'conv', out: 4, kernel: 3, pad: 1 }, { type: 'bn2d' }, { type: 'relu' }, { type: 'maxpool', kernel: 2 }, { type: 'linear', out: 'classes' }],
});

/** Trains the tiny model 2 epochs of 6 steps (batch 16) with a recorder writing <dir>/<name>.jsonl and .html. */
export async function recordedRun(
  dir: string,
  name: string,
  lr = 0.05,
  executor: LinearExecutor = new PlainExecutor(getBackend('js')),
): Promise<{ log: string; html: string; recorder: RunRecorder; batchLosses: number[] }> {
  const data = loadDataset('synthetic:1x8x8:3', { limitTrain: 96, limitTest: 32, seed: 4 });
  const model = buildModel(TINY, { inputShape: [...data.inputShape], numClasses: data.numClasses, seed: 4, executor });
  const log = join(dir, `${name}.jsonl`);
  const html = join(dir, `${name}.html`);
  const recorder = new RunRecorder({ label: name, settings: { model: 'tiny', lr }, logPath: log, reportPath: html, every: 4, executor, askWorkers: true });
  await recorder.begin();
  const batchLosses: number[] = [];
  await train({
    model, data, optimizer: new SGD(model.parameters(), { lr, momentum: 0.9 }), schedule: parseSchedule('cosine', lr, 2), epochs: 2, batchSize: 16, seed: 4,
    describe: { model: TINY, data: data.name, mode: 'plain', hyper: {} },
    onStep: (p) => {
      batchLosses.push(p.batchLoss);
      return recorder.step(p);
    },
    onEpoch: (m) => recorder.epoch(m),
  });
  return { log, html, recorder, batchLosses };
}
