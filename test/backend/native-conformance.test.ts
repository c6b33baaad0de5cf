/**
 * Runs the backend conformance suite on the native (OpenBLAS addon) backend, in
 * two configurations: the default workspace limit, and a 64 KiB limit under which
 * every kernel takes its split paths (image groups, channel blocks, GEMM row and
 * column blocks, and calls whose smallest piece exceeds the limit).
 *
 * The addon must be available in CI, so an unavailable addon is a FAILURE here,
 * not a skip — unless GOTEN_ALLOW_NO_NATIVE=1 (for machines without a compiler
 * or OpenBLAS), which turns it into a skipped test that says why.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type NativeBackendOptions, createNativeBackend, nativeAvailability } from '../../src/backend/native/native-backend.js';
import { runBackendConformance } from './conformance.js';

/** The native configurations the suite runs on. */
const CONFIGS: ReadonlyArray<readonly [string, NativeBackendOptions]> = [
  ['native', {}],
  ['native, 64 KiB workspace', { workspaceBytes: 64 * 1024 }],
];

const avail = nativeAvailability();
if (avail.available) {
  for (const [name, opts] of CONFIGS) runBackendConformance(name, () => createNativeBackend(opts));
} else if (process.env.GOTEN_ALLOW_NO_NATIVE === '1') {
  it('native backend conformance', { skip: `native backend unavailable: ${avail.reason} (GOTEN_ALLOW_NO_NATIVE=1)` }, () => {});
} else {
  it('native backend is available', () => {
    assert.fail(
      `native backend unavailable: ${avail.reason}. Build it (apt-get install -y libopenblas-dev && npm ci), ` +
        'or set GOTEN_ALLOW_NO_NATIVE=1 to skip the native conformance suite on this machine.',
    );
  });
}
