/**
 * A start-up error of `goten serve` (a bad checkpoint, a port in use) must close the executor that
 * start-up already launched: in secure mode it owns worker processes, and `goten serve` never exited
 * (issue 11).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { getBackend } from '../../src/backend/index.js';
import type { LinearExecutor } from '../../src/nn/executor.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { startService } from '../../src/service/server.js';
import { quietProvider, tempDir, tinyCheckpoint } from './helpers.js';

/** Plain executors that count their close() calls. */
function executors() {
  const made: LinearExecutor[] = [];
  let closed = 0;
  const make = async () => {
    const e = new PlainExecutor(getBackend('js'));
    (e as { close?: () => Promise<void> }).close = async () => void closed++;
    made.push(e);
    return e;
  };
  return { make, made, closed: () => closed };
}

describe('goten serve start-up errors', () => {
  it('closes the executor when the checkpoint is bad', async () => {
    const dir = tempDir();
    try {
      const ex = executors();
      await assert.rejects(
        startService({ provider: quietProvider(dir), mode: 'plain', makeExecutor: ex.make, modelBytes: new Uint8Array([1, 2, 3, 4]), log: () => {} }),
      );
      assert.equal(ex.made.length, 1);
      assert.equal(ex.closed(), 1, 'the launched executor must be closed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes the executor when the port is in use', async () => {
    const dir = tempDir();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (blocker.address() as { port: number }).port;
      const modelBytes = readFileSync(await tinyCheckpoint(dir));
      const ex = executors();
      await assert.rejects(
        startService({ provider: quietProvider(dir), mode: 'plain', makeExecutor: ex.make, modelBytes, port, log: () => {} }),
        /in use|EADDRINUSE/,
      );
      assert.equal(ex.made.length, 1);
      assert.equal(ex.closed(), 1, 'the launched executor must be closed');
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
