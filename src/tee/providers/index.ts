/**
 * Provider factory: `createProvider(kind, options)`. Hardware providers only touch their pseudo-files when
 * asked for evidence, measurement or a sealing key, so constructing one on a machine without the TEE is safe.
 */
import type { TeeKind, TeeProvider } from '../provider.js';
import { SimulatedProvider, type SimulatedProviderOptions } from './simulated.js';
import { SgxGramineProvider, type SgxGramineOptions } from './sgx-gramine.js';
import { TsmProvider, type TsmOptions } from './configfs-tsm.js';

export { SimulatedProvider, SgxGramineProvider, TsmProvider };
export type { SimulatedProviderOptions, SgxGramineOptions, TsmOptions };
export { SIMULATED_WARNING, defaultSimKeyPath, loadOrCreateQuotingKey } from './simulated.js';
export { parseSnpCertTable, SNP_CERT_GUIDS, TSM_REPORT_ROOT } from './configfs-tsm.js';
export type { ProviderFs } from './fs-ops.js';

export type ProviderOptions = SimulatedProviderOptions & SgxGramineOptions & TsmOptions;

export const TEE_KINDS: readonly TeeKind[] = ['simulated', 'sgx-gramine', 'tdx', 'sev-snp'];

export function createProvider(kind: TeeKind, options: ProviderOptions = {}): TeeProvider {
  switch (kind) {
    case 'simulated':
      return new SimulatedProvider(options);
    case 'sgx-gramine':
      return new SgxGramineProvider(options);
    case 'tdx':
    case 'sev-snp':
      return new TsmProvider(kind, options);
    default:
      throw new TypeError(`unknown TEE provider "${String(kind)}" (use ${TEE_KINDS.join(', ')})`);
  }
}
