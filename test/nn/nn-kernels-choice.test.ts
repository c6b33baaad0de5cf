/**
 * The process's choice of non-linear kernels: native when the addon has them, the reference
 * with GOTEN_NATIVE_DISABLE=1 (or without the addon), and the same training results either way
 * (a child process with the reference kernels against this one).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { nnKernels, nnKernelsChoice, referenceNnKernels } from '../../src/nn/kernels/index.js';
import { nnAddon, skipNative } from './kernels-helpers.js';
import { trainFingerprint } from './kernels-run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs kernels-run.ts in a child process with `env` added; its JSON line. */
function child(env: Record<string, string>): { kernels: string; reason: string | null; fingerprint: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/nn/kernels-run.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
}

describe('nnKernels(): one choice per process', () => {
  it('is native when the addon has the kernels, else the reference with the reason', () => {
    const c = nnKernelsChoice();
    assert.equal(nnKernels(), c.kernels, 'the same object on every call');
    if (nnAddon !== null && process.env.GOTEN_NATIVE_DISABLE !== '1') {
      assert.equal(c.kernels.name, 'native');
      assert.equal(c.reason, undefined);
      assert.equal(c.simd, nnAddon.nnInfo().simd);
    } else {
      assert.equal(c.kernels, referenceNnKernels);
      assert.match(c.reason ?? '', /./);
    }
  });

  it('GOTEN_NATIVE_DISABLE=1 selects the reference, and training gives the same bits as here', async () => {
    const here = await trainFingerprint();
    const off = child({ GOTEN_NATIVE_DISABLE: '1' });
    assert.equal(off.kernels, 'reference');
    assert.match(off.reason ?? '', /GOTEN_NATIVE_DISABLE=1/);
    assert.equal(off.fingerprint, here, `training with ${nnKernelsChoice().kernels.name} kernels here and reference kernels in the child`);
  });

  it('a child without the override picks native too, with the same bits', { skip: skipNative }, async () => {
    const on = child({ GOTEN_NATIVE_DISABLE: '0' });
    assert.equal(on.kernels, 'native');
    assert.equal(on.fingerprint, await trainFingerprint());
  });
});
