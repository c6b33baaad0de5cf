// Builds the addon with node-gyp. A failed build must never fail `npm ci`:
// the framework then reports the native backend as unavailable and uses js.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync, rmSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const statusFile = join(here, 'build-status.json');
rmSync(statusFile, { force: true });
const npmNodeGyp = process.env.npm_config_node_gyp;
const cmd = npmNodeGyp ? process.execPath : 'node-gyp';
const args = npmNodeGyp ? [npmNodeGyp, 'rebuild'] : ['rebuild'];
const r = spawnSync(cmd, args, { cwd: here, stdio: 'inherit', env: process.env });
const ok = r.status === 0;
writeFileSync(statusFile, JSON.stringify({ ok, status: r.status, error: r.error?.message ?? null, at: new Date().toISOString() }) + '\n');
if (!ok) {
  console.warn('\n[goten] WARNING: the native addon did not build; the slower js backend will be used.');
  console.warn('[goten] Install a C++ toolchain and `apt-get install -y libopenblas-dev`, then run `npm rebuild @goten/native`.\n');
}
process.exit(0);
