/**
 * The backend registry: picks a kernel implementation by name.
 *
 *   js      the pure-TypeScript reference (always available, 3–6 GFLOP/s here)
 *   native  the OpenBLAS addon (45–90 GFLOP/s mod P here); throws
 *           BackendUnavailableError when the addon did not build. Its
 *           workspace limit is GOTEN_NATIVE_WORKSPACE_MIB or 16 MiB
 *           (createNativeBackend({ workspaceBytes }) for another)
 *   auto    native when available, else js with a one-time warning on stderr
 *
 * getBackend returns one shared instance per concrete backend (instances own
 * scratch buffers, so sharing them within one thread saves memory); call
 * createJsBackend / createNativeBackend directly for a private instance.
 */
import { type Backend, BackendUnavailableError } from './backend.js';
import { createJsBackend } from './js/index.js';
import { createNativeBackend, nativeAvailability } from './native/native-backend.js';

export type { Backend, GemmShape } from './backend.js';
export { BackendUnavailableError } from './backend.js';
export type { ConvGeometry } from '../tensor/geometry.js';
export { convGeometry, convOutH, convOutW, convSizes, validateConvGeometry } from '../tensor/geometry.js';
export type { BilinearOp, BilinearPass, BilinearSizes, LinearGeometry } from './bilinear.js';
export { applyBilinearF32, applyBilinearModP, bilinearSizes } from './bilinear.js';
export { createJsBackend } from './js/index.js';
export {
  DEFAULT_NATIVE_WORKSPACE_BYTES,
  NATIVE_WORKSPACE_ENV,
  type NativeBackendOptions,
  createNativeBackend,
  defaultWorkspaceBytes,
  nativeAvailability,
} from './native/native-backend.js';

/** Names accepted by getBackend (and by `--backend` on the command line). */
export const backendNames = ['js', 'native', 'auto'] as const;
export type BackendName = (typeof backendNames)[number];

export function isBackendName(s: string): s is BackendName {
  return (backendNames as readonly string[]).includes(s);
}

const instances = new Map<'js' | 'native', Backend>();
let warnedFallback = false;

function shared(name: 'js' | 'native'): Backend {
  let be = instances.get(name);
  if (!be) {
    be = name === 'js' ? createJsBackend() : createNativeBackend();
    instances.set(name, be);
  }
  return be;
}

/** The (shared) backend called `name`; see the module comment for 'auto'. */
export function getBackend(name: BackendName = 'auto'): Backend {
  switch (name) {
    case 'js':
      return shared('js');
    case 'native':
      return shared('native');
    case 'auto': {
      const avail = nativeAvailability();
      if (avail.available) {
        try {
          return shared('native');
        } catch (e) {
          if (!(e instanceof BackendUnavailableError)) throw e;
          return fallBack(e.message);
        }
      }
      return fallBack(avail.reason ?? 'unknown reason');
    }
    default:
      throw new RangeError(`unknown backend '${String(name)}' (expected one of: ${backendNames.join(', ')})`);
  }
}

function fallBack(reason: string): Backend {
  if (!warnedFallback) {
    warnedFallback = true;
    process.stderr.write(
      `goten: warning: native backend unavailable (${reason}); using the js reference backend, ~10-15x slower\n`,
    );
  }
  return shared('js');
}
