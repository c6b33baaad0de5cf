/**
 * A stalled enclave must not hold the workers forever: a session whose enclave sends nothing, not
 * even a keepalive, ends after the idle timeout; meanwhile another enclave is told that the worker is
 * busy instead of a bare "no message from w0" (issue 11). A live enclave's keepalives keep its
 * session open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startWorkers } from './worker-rig.js';

async function waitFor(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('worker session idle timeout', () => {
  it('ends the session of a silent enclave; another enclave is told the worker is busy, then gets in', async () => {
    const rig = await startWorkers('tcp', { sessionIdleMs: 800, admission: { busyGraceMs: 100 } });
    try {
      // a stalled enclave: its session is open but it never sends again (no keepalives either)
      const stalled = await rig.enclave({ keepaliveMs: 60_000 });
      await assert.rejects(rig.enclave(), /serving another session/, 'a second enclave learns that the worker is busy');
      await waitFor(() => rig.logs.filter((l) => /session ended after/.test(l)).length === 3, 5000, 'every worker ending the stalled session');
      assert.ok(rig.logs.some((l) => /idle timeout/.test(l)), rig.logs.join('\n'));
      const next = await rig.enclave();
      await next.close();
      await stalled.close();
    } finally {
      await rig.stop();
    }
  });

  it('keeps the session of an enclave that sends keepalives', async () => {
    const rig = await startWorkers('tcp', { sessionIdleMs: 600 });
    try {
      const exec = await rig.enclave({ keepaliveMs: 100 });
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(!rig.logs.some((l) => /session ended/.test(l)), rig.logs.join('\n'));
      await exec.close();
      await waitFor(() => rig.logs.filter((l) => /session ended after/.test(l)).length === 3, 5000, 'the session ending on close');
      assert.ok(!rig.logs.some((l) => /idle timeout/.test(l)), rig.logs.join('\n'));
    } finally {
      await rig.stop();
    }
  });
});
