/**
 * `goten serve --mode secure` recovers from a lost worker like training does: its local cluster's w1 is
 * killed with SIGKILL; /healthz reports the loss honestly (503, "lost"); the next query re-opens the
 * session (the launcher has restarted w1) and gets exactly the classes an uninterrupted service gives for
 * the same sequence of queries; /healthz then says every worker is connected again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { runQuery } from '../../src/cli/commands/query.js';
import { DATA, tempDir, tinyCheckpoint, withService } from './helpers.js';
import { childWith } from '../roles/recovery-rig.js';

const health = async (url: string) => {
  const r = await fetch(`${url}/healthz`);
  return { status: r.status, body: (await r.json()) as { ok: boolean; workers?: Record<string, string> } };
};

it('goten serve --mode secure: a killed worker is reported by /healthz and recovered at the next query', { timeout: 240_000 }, async () => {
  const dir = tempDir();
  const ck = await tinyCheckpoint(dir);
  const query = (url: string) => runQuery({ to: url, policy: join(dir, 'policy.json'), data: DATA, limit: 16, perQuery: 4, concurrency: 1, form: 'json', seed: 3 });
  // the uninterrupted service: two queries in a row (the second quantizes with later attempt numbers)
  const want: number[][] = [];
  await withService(dir, ck, ['--mode', 'secure', '--local-below', '0', '--op-timeout', '10'], async (url) => {
    want.push((await query(url)).classes, (await query(url)).classes);
  });
  await withService(dir, ck, ['--mode', 'secure', '--local-below', '0', '--op-timeout', '10'], async (url, err, pid) => {
    const before = await query(url);
    assert.deepEqual(before.classes, want[0]);
    assert.deepEqual(await health(url), { status: 200, body: { ok: true, workers: { w0: 'connected', w1: 'connected', w2: 'connected' } } });

    const w1 = childWith(pid, ['worker', 'w1']);
    assert.ok(w1, 'w1 runs as a child process of the service');
    process.kill(w1, 'SIGKILL');
    let h = await health(url);
    for (let i = 0; i < 100 && h.body.workers?.w1 !== 'lost'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      h = await health(url);
    }
    assert.equal(h.status, 503, JSON.stringify(h));
    assert.equal(h.body.ok, false);
    assert.equal(h.body.workers?.w1, 'lost');

    const after = await query(url);
    assert.deepEqual(after.classes, want[1], "the uninterrupted service's predictions after recovery");
    assert.match(err(), /w1 exited with SIGKILL; restarting it on its port/);
    assert.match(err(), /reconnected after [\d.]+ s \(attempt \d+\)/);
    assert.deepEqual(await health(url), { status: 200, body: { ok: true, workers: { w0: 'connected', w1: 'connected', w2: 'connected' } } });
  });
});
