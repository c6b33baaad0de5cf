/**
 * Ctrl-C stops `goten train --mode plain`: the training loop must yield to the event loop, or the
 * SIGINT handler never runs and the run ignores the signal until it ends (issue 11).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnGoten } from '../cli.js';


describe('goten train: Ctrl-C', () => {
  it('plain mode exits with 130 soon after SIGINT', async () => {
    const args = ['train', '--mode', 'plain', '--backend', 'js', '--data', 'synthetic:1x8x8:3',
      '--limit-train', '512', '--limit-test', '64', '--batch', '8', '--epochs', '100000', '--model', 'mnist-cnn', '--no-guard'];
    const child = spawnGoten(args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // wait until training runs (the model summary line), then interrupt
      await new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('training ')) resolve();
        });
        child.once('exit', () => reject(new Error(`goten train ended before training: ${stderr}`)));
      });
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGINT');
      const outcome = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 8000).unref())]);
      assert.equal(outcome, 130, `expected exit 130 after SIGINT; stderr: ${stderr.slice(-500)}`);
      assert.match(stderr, /interrupted/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
