/** `goten serve` as its own process: --policy-out, a verified encrypted query, clean stop on SIGTERM. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { runQuery } from '../../src/cli/commands/query.js';
import { DATA, tempDir, tinyCheckpoint, withService } from './helpers.js';

it('goten serve --model-file serves attested, encrypted predictions and stops on SIGTERM', async () => {
  const dir = tempDir();
  const ck = await tinyCheckpoint(dir);
  await withService(dir, ck, ['--mode', 'plain'], async (url, err) => {
    assert.match(err(), /SIMULATED TEE — NO SECURITY/);
    const r = await runQuery({ to: url, policy: join(dir, 'policy.json'), data: DATA, limit: 16, perQuery: 4, concurrency: 2, form: 'json', seed: 3 });
    assert.equal(r.count, 16);
    assert.ok(r.accuracy > 0.5, `accuracy ${r.accuracy}`);
  });
});
