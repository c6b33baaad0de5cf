/**
 * The TEE provider abstraction: what the enclave role needs from its trusted execution environment.
 *
 * | kind          | evidence                          | measurement          | sealing key                                  |
 * |---------------|-----------------------------------|----------------------|----------------------------------------------|
 * | simulated     | Goten simulated report (Ed25519)  | SHA-256 of code tree | HKDF from the local quoting-key file         |
 * | sgx-gramine   | DCAP quote v3 via /dev/attestation| MRENCLAVE            | HKDF from /dev/attestation/keys/_sgx_mrenclave |
 * | tdx           | DCAP quote v4/v5 via configfs-tsm | MRTD                 | none in hardware: supplied key (e.g. from a KBS) |
 * | sev-snp       | SNP report via configfs-tsm       | MEASUREMENT          | none via configfs-tsm: supplied key          |
 *
 * `attest(reportData)` takes at most 64 bytes of caller data (normally `bindingReportData(...)` of the
 * enclave's channel key, binding.ts); shorter data is zero-padded to 64 bytes exactly as the hardware does.
 * `memoryBudgetBytes` is the amount of tensor data the enclave keeps resident (default 90 MiB, the usable
 * SGX1 EPC); larger tensors go through a `SealedChunkStore` built on `sealer()`.
 */
import type { AttestationReport } from './evidence.js';
import type { SealContext, Sealer } from './seal.js';

export type TeeKind = 'simulated' | 'sgx-gramine' | 'tdx' | 'sev-snp';

/** Usable SGX1 EPC (Goten paper, §5): the default enclave budget for resident tensor data. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 90 * 1024 * 1024;

export interface TeeProvider {
  readonly kind: TeeKind;
  /** true only for the simulated provider: its evidence and sealing have no security */
  readonly simulated: boolean;
  /** resident tensor-data budget in bytes */
  readonly memoryBudgetBytes: number;
  /** the TEE's code measurement (32 B MRENCLAVE / simulated hash, 48 B MRTD / SNP MEASUREMENT) */
  measurement(): Promise<Uint8Array>;
  /** evidence binding `reportData` (≤ 64 bytes, zero-padded), ready for `encodeReport` and `verifyReport` */
  attest(reportData: Uint8Array): Promise<AttestationReport>;
  /** seals `plaintext` as (purpose, chunkId, version) under the provider's sealing key (seal.ts format) */
  seal(plaintext: Uint8Array, ctx: SealContext): Promise<Uint8Array>;
  /** opens a blob that must be exactly `ctx`; throws SealError otherwise */
  unseal(sealed: Uint8Array, ctx: SealContext): Promise<Uint8Array>;
  /** the synchronous sealer behind seal/unseal, for chunk stores on hot paths */
  sealer(): Promise<Sealer>;
}

export interface CommonProviderOptions {
  memoryBudgetBytes?: number;
}

/** Zero-pads caller data to the 64 bytes every TEE report carries; refuses more than 64 bytes. */
export function reportData64(data: Uint8Array): Uint8Array {
  if (data.length > 64) throw new RangeError(`report data is ${data.length} bytes; TEE reports carry at most 64`);
  const out = new Uint8Array(64);
  out.set(data);
  return out;
}

/** Serialises async sections (quote generation uses process-global state in Gramine and configfs entries). */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Base class that implements seal/unseal on top of `sealer()`. */
export abstract class BaseProvider implements TeeProvider {
  abstract readonly kind: TeeKind;
  abstract readonly simulated: boolean;
  readonly memoryBudgetBytes: number;
  constructor(opts: CommonProviderOptions) {
    const b = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
    if (!Number.isSafeInteger(b) || b <= 0) throw new RangeError('memoryBudgetBytes must be a positive integer');
    this.memoryBudgetBytes = b;
  }
  abstract measurement(): Promise<Uint8Array>;
  abstract attest(reportData: Uint8Array): Promise<AttestationReport>;
  abstract sealer(): Promise<Sealer>;
  async seal(plaintext: Uint8Array, ctx: SealContext): Promise<Uint8Array> {
    return (await this.sealer()).seal(plaintext, ctx);
  }
  async unseal(sealed: Uint8Array, ctx: SealContext): Promise<Uint8Array> {
    return (await this.sealer()).unseal(sealed, ctx);
  }
}
