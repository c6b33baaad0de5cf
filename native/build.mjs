// Builds the addon with node-gyp. A failed build must never fail `npm ci`:
// the framework then reports the native backend as unavailable and uses js.
//
// Two callers: this folder's own install script (the @goten/native workspace of a
// checkout) and goten-ts's install script where the package is installed from its
// tarball (the sources ship in it). The latter passes --if-missing: in a checkout the
// workspace has just built the addon, and building it twice costs a minute.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, writeFileSync, rmSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv.includes('--if-missing') && existsSync(join(here, 'build', 'Release', 'goten_native.node'))) process.exit(0);
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
  console.warn('[goten] Install a C++ toolchain and `apt-get install -y libopenblas-dev`, then run `npm rebuild @goten/native` (in a checkout) or `npm rebuild goten-ts` (where it is installed).\n');
}
process.exit(0);
