/**
 * Interrupted runs must not leave temporary checkpoint files or a local cluster's private keys behind
 * (issue 11): they are removed on SIGINT/SIGTERM, and what a killed run left is removed at the next start.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getBackend } from '../../src/backend/index.js';
import { captureCheckpoint, saveCheckpoint } from '../../src/nn/checkpoint.js';
import { buildModel } from '../../src/nn/models/index.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Whether a process has ended (gone, or a zombie that no one has reaped yet). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

/** The id of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function tinyCheckpoint() {
  const model = buildModel(JSON.stringify({ name: 't', layers: [{ type: 'flatten', name: 'f' }, { type: 'linear', name: 'fc', out: 'classes' }] }), {
    inputShape: [1, 2, 2], numClasses: 2, seed: 1, executor: new PlainExecutor(getBackend('js')),
  });
  const info = { model: 't', data: 'synthetic', mode: 'plain', seed: 1, epoch: 0, step: 0, hyper: {} };
  return captureCheckpoint(model, info as never, {}, {} as never);
}

describe('temporary files of interrupted runs', () => {
  it('saveCheckpoint removes the temporary file a dead run left, keeps a live one, writes owner-only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goten-tmpfiles-'));
    try {
      const path = join(dir, 'ck.safetensors');
      const stale = `${path}.tmp-${deadPid()}`;
      const live = `${path}.tmp-${process.ppid}`;
      writeFileSync(stale, 'partial');
      writeFileSync(live, 'in progress elsewhere');
      saveCheckpoint(path, tinyCheckpoint());
      assert.ok(!existsSync(stale), 'the dead run\'s temporary file is removed');
      assert.ok(existsSync(live), 'a live process\'s temporary file is kept');
      assert.equal(statSync(path).mode & 0o077, 0, 'a checkpoint is readable by its owner only');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM to a process with a launched local cluster removes its key directory and stops its workers', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'goten-tmpfiles-'));
    try {
      const script = [
        "import { launchLocalCluster } from './src/roles/launcher.ts';",
        "const c = await launchLocalCluster({ topology: 'single', transport: 'tcp', backend: 'js', stderr: 'ignore', workers: 2 });",
        "process.stdout.write(JSON.stringify(c.children.map((x) => x.pid)) + '\\n');",
        'setInterval(() => {}, 1000);',
      ].join('\n');
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: root, env: { ...process.env, TMPDIR: scratch }, stdio: ['ignore', 'pipe', 'inherit'],
      });
      const pids = await new Promise<number[]>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as number[]));
        child.once('exit', () => reject(new Error('the launcher process ended early')));
      });
      assert.equal(readdirSync(scratch).filter((n) => n.startsWith('goten-cluster-')).length, 1, 'the key directory exists while it runs');
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      assert.equal(code, 143);
      assert.deepEqual(readdirSync(scratch).filter((n) => n.startsWith('goten-cluster-')), [], 'no private keys are left behind');
      await new Promise((r) => setTimeout(r, 200));
      for (const pid of pids) assert.ok(gone(pid), `worker ${pid} is stopped`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('a later launch removes the key directory of a run that was killed', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'goten-tmpfiles-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    try {
      const abandoned = join(scratch, `goten-cluster-${deadPid()}-abcdef`);
      const live = join(scratch, `goten-cluster-${process.ppid}-abcdef`);
      for (const d of [abandoned, live]) mkdirSync(join(d, 'keys'), { recursive: true });
      const { launchLocalCluster } = await import('../../src/roles/launcher.js');
      const c = await launchLocalCluster({ topology: 'single', transport: 'tcp', backend: 'js', stderr: 'ignore', workers: 2 });
      await c.stop();
      assert.ok(!existsSync(abandoned), 'the abandoned key directory is removed');
      assert.ok(existsSync(live), 'a live run\'s directory is kept');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
