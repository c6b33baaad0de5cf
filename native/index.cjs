'use strict';
// Loads the compiled addon, or exports { unavailable: reason } when it is missing
// (the install never fails: build.mjs records the outcome in build-status.json).
const path = require('node:path');
const fs = require('node:fs');

const HINT = 'install a C++ toolchain (and `apt-get install -y libopenblas-dev` for speed), then run `npm rebuild @goten/native` (in a checkout) or `npm rebuild goten-ts` (where it is installed)';

function reason(err) {
  let status = null;
  try {
    status = JSON.parse(fs.readFileSync(path.join(__dirname, 'build-status.json'), 'utf8'));
  } catch {
    // no record: the install script did not run (e.g. npm ci --ignore-scripts)
  }
  if (status && status.ok === false) {
    const why = status.error || `node-gyp exited with status ${status.status}`;
    return `the native build failed during install (${why}); ${HINT}`;
  }
  const first = err && err.message ? err.message.split('\n')[0] : String(err);
  return `native addon not built (${first}); ${HINT}`;
}

try {
  module.exports = require(path.join(__dirname, 'build', 'Release', 'goten_native.node'));
} catch (err) {
  module.exports = { unavailable: reason(err) };
}
