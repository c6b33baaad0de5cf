/**
 * Closing the executor of a launched local cluster must not leave a timer behind: an uncleared
 * 10 s timer kept every local secure run and `serve` shutdown alive 10 s longer (issue 11).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecureExecutor } from '../../src/protocol/secure-executor.js';
import type { LaunchedCluster } from '../../src/roles/launcher.js';
import { withCleanup } from '../../src/roles/secure-setup.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('secure executor clean-up', () => {
  it('leaves no pending timer once the launched workers have exited', async () => {
    let stopped = false;
    const exec = { close: async () => {}, maskStats: () => ({ mode: 'online' }) } as unknown as SecureExecutor;
    const launched = { exited: Promise.resolve(), stop: async () => void (stopped = true) } as unknown as LaunchedCluster;
    const before = timers();
    await withCleanup(exec, launched).close?.();
    assert.ok(stopped, 'the launched cluster is stopped');
    assert.equal(timers(), before, 'close() must not leave a timer that keeps the process alive');
  });
});
