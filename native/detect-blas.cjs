#!/usr/bin/env node
'use strict';
// Decides at gyp time whether the addon links OpenBLAS. Called by binding.gyp:
//   node detect-blas.cjs            → prints "openblas" or "builtin"
//   node detect-blas.cjs --include  → prints the extra include dir cblas.h needs (or nothing)
// Detection = compile and link a 3-line program that includes <cblas.h> and calls
// cblas_dgemm and openblas_get_num_threads with -lopenblas, so a cblas.h from another
// BLAS, or a header without the library, counts as absent.
// GOTEN_NATIVE_BLAS=builtin forces the built-in kernel (e.g. to test the fallback);
// GOTEN_NATIVE_BLAS=openblas skips detection.
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const wantInclude = process.argv.includes('--include');
const forced = (process.env.GOTEN_NATIVE_BLAS || '').trim().toLowerCase();
const candidates = ['', '/usr/include/openblas', '/usr/local/include', '/opt/OpenBLAS/include'];

const program = `#include <cblas.h>
int main() {
  double a = 1, b = 1, c = 0;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0, &a, 1, &b, 1, 0.0, &c, 1);
  return openblas_get_num_threads() > 0 ? 0 : 1;
}
`;

function links(includeDir) {
  const cxx = (process.env.CXX || 'c++').split(/\s+/).filter(Boolean);
  const dir = mkdtempSync(join(tmpdir(), 'goten-blas-'));
  try {
    const args = [...cxx.slice(1), '-x', 'c++', '-', '-o', join(dir, 'probe')];
    if (includeDir) args.push('-I' + includeDir);
    args.push('-lopenblas');
    const r = spawnSync(cxx[0], args, { input: program, stdio: ['pipe', 'ignore', 'ignore'], timeout: 60000 });
    return r.status === 0;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let found = null; // include dir ('' = default search path) or null
if (forced === 'builtin') found = null;
else if (forced === 'openblas') found = '';
else for (const dir of candidates) if (links(dir)) { found = dir; break; }

if (wantInclude) {
  if (found) process.stdout.write(found + '\n');
} else {
  process.stdout.write(found === null ? 'builtin\n' : 'openblas\n');
  process.stderr.write(
    found === null
      ? `[goten-native] OpenBLAS not usable${forced === 'builtin' ? ' (GOTEN_NATIVE_BLAS=builtin)' : ' (cblas.h / -lopenblas not found)'}: building the built-in GEMM kernel\n`
      : `[goten-native] linking OpenBLAS${found ? ' (include ' + found + ')' : ''}\n`,
  );
}
