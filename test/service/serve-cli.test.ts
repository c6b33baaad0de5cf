/** `goten serve` as its own process: --policy-out, a verified encrypted query, clean stop on SIGTERM. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { runQuery } from '../../src/cli/commands/query.js';
import { DATA, tempDir, tinyCheckpoint } from './helpers.js';
import { spawnGoten } from '../cli.js';

it('goten serve --model-file serves attested, encrypted predictions and stops on SIGTERM', async () => {
  const dir = tempDir();
  const ck = await tinyCheckpoint(dir);
  const policy = join(dir, 'policy.json');
  const p = spawnGoten(['serve', '--model-file', ck, '--mode', 'plain', '--backend', 'js', '--port', '0', '--policy-out', policy], {
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
    assert.match(err, /SIMULATED TEE — NO SECURITY/);
    const r = await runQuery({ to: url, policy, data: DATA, limit: 16, perQuery: 4, concurrency: 2, form: 'json', seed: 3 });
    assert.equal(r.count, 16);
    assert.ok(r.accuracy > 0.5, `accuracy ${r.accuracy}`);
  } finally {
    p.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
});
