/** Shared fixtures for test/service: a tiny model, its checkpoint, a quiet simulated TEE and its policy. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../../src/backend/index.js';
import { loadDataset } from '../../src/data/spec.js';
import { buildModel } from '../../src/nn/models/index.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { SGD } from '../../src/nn/optim.js';
import { train } from '../../src/nn/trainer.js';
import { parsePolicy, SimulatedProvider, type AttestationPolicy } from '../../src/tee/index.js';
import assert from 'node:assert/strict';
import { spawnGoten } from '../cli.js';

export const TINY = {
  name: 'tiny',
  layers: [
    { type: 'conv', name: 'conv1', out: 4, kernel: 3, pad: 1, bias: false },
    { type: 'bn2d', name: 'bn1' },
    { type: 'relu', name: 'relu1' },
    { type: 'maxpool', name: 'pool1', kernel: 2 },
    { type: 'flatten', name: 'flatten' },
    { type: 'linear', name: 'fc', out: 'classes' },
  ],
};
export const DATA = 'synthetic:1x8x8:3';
export const MEASUREMENT = new Uint8Array(32).fill(0x5a);

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'goten-svc-'));

/** A simulated provider with its own key file and a fixed measurement (the code tree changes under us). */
export function quietProvider(dir: string, measurement = MEASUREMENT, keyName = 'simkey'): SimulatedProvider {
  return new SimulatedProvider({ keyPath: join(dir, keyName), measurementOverride: measurement, warn: () => {} });
}

export function devPolicy(p: SimulatedProvider, over: Record<string, unknown> = {}): AttestationPolicy {
  return parsePolicy({
    allowedKinds: ['simulated'],
    measurements: [Buffer.from(MEASUREMENT).toString('hex')],
    allowDebug: true,
    allowSimulated: true,
    simulatedQuotingKeys: [p.quotingPublicKeyHex()],
    keyBinding: 'goten-v1',
    ...over,
  });
}

export function writePolicy(dir: string, p: SimulatedProvider, over: Record<string, unknown> = {}): string {
  const path = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ ...devPolicy(p), ...over }));
  return path;
}

/** Trains the tiny model (plain, js backend) for one epoch and saves its checkpoint. */
export async function tinyCheckpoint(dir: string): Promise<string> {
  const path = join(dir, 'tiny.safetensors');
  const data = loadDataset(DATA, { limitTrain: 96, limitTest: 48, seed: 3 });
  const spec = JSON.stringify(TINY);
  const model = buildModel(spec, { inputShape: [...data.inputShape], numClasses: data.numClasses, seed: 3, executor: new PlainExecutor(getBackend('js')) });
  await train({
    model, data, optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }), epochs: 1, batchSize: 16, seed: 3,
    describe: { model: spec, data: DATA, mode: 'plain', hyper: {} }, save: { path },
  });
  return path;
}

/**
 * `goten serve` on checkpoint `ck` (js backend, a free port, its policy written to dir/policy.json) with `args`;
 * `run(url, err, pid)` talks to it; then SIGTERM, and the service must end with exit 0.
 */
export async function withService(dir: string, ck: string, args: readonly string[], run: (url: string, err: () => string, pid: number) => Promise<void>): Promise<void> {
  const policy = join(dir, 'policy.json');
  const p = spawnGoten(['serve', '--model-file', ck, '--backend', 'js', '--port', '0', '--policy-out', policy, ...args], {
    env: { ...process.env, GOTEN_SIM_QUOTING_KEY: join(dir, 'simkey') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      p.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      void exited.then(() => reject(new Error(`serve exited: ${err}`)));
    });
    await run(url, () => err, p.pid!);
  } finally {
    p.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
}
