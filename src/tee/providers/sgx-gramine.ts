/**
 * SGX enclave under Gramine (docs/tee.md §8): evidence through Gramine's /dev/attestation
 * pseudo-filesystem (manifest: sgx.remote_attestation = "dcap").
 *
 *   attestation_type       "dcap" required (else no quotes can be produced)
 *   user_report_data  (W)  exactly 64 bytes written in ONE write (each write replaces the buffer)
 *   quote             (R)  a fresh DCAP v3 quote over the current user_report_data, generated on open
 *   report            (R)  local EREPORT (384 B body ‖ 32 B key id ‖ 16 B MAC); used to read our MRENCLAVE
 *   keys/_sgx_mrenclave    16-byte sealing key bound to MRENCLAVE (`_sgx_mrsigner`: bound to MRSIGNER)
 *
 * user_report_data is one process-global buffer, so quote generation is serialised with a mutex. Each quote is
 * parsed and its REPORTDATA compared with what was written before it is returned (a self-check that catches a
 * racing writer or a misconfigured manifest). Not run on SGX hardware here: tested against a fake tree.
 */
import { join } from 'node:path';
import { AttestationError } from '../errors.js';
import { bytesEqual } from '../bytes.js';
import type { AttestationReport } from '../evidence.js';
import { BaseProvider, Mutex, reportData64, type CommonProviderOptions } from '../provider.js';
import { Sealer } from '../seal.js';
import { parseIntelQuote, parseSgxReportBody } from '../verify/intel-quote.js';
import { nodeFs, type ProviderFs } from './fs-ops.js';

export interface SgxGramineOptions extends CommonProviderOptions {
  /** default /dev/attestation */
  root?: string;
  /** sealing key under <root>/keys/: "_sgx_mrenclave" (default) or "_sgx_mrsigner" */
  sealKeyName?: string;
  fs?: ProviderFs;
}

export class SgxGramineProvider extends BaseProvider {
  readonly kind = 'sgx-gramine' as const;
  readonly simulated = false;
  readonly root: string;
  private readonly fs: ProviderFs;
  private readonly lock = new Mutex();
  private cachedSealer?: Sealer;
  private cachedMeasurement?: Uint8Array;

  constructor(private readonly opts: SgxGramineOptions = {}) {
    super(opts);
    this.root = opts.root ?? '/dev/attestation';
    this.fs = opts.fs ?? nodeFs;
  }

  /** A clear error instead of the OS's ENOENT when this process is not inside a Gramine SGX enclave. */
  private requireGramine(): void {
    if (!this.fs.exists(this.root)) {
      throw new AttestationError('PROVIDER', `the sgx-gramine TEE is not available: ${this.root} does not exist (not running under gramine-sgx; run inside it, or choose another --tee)`);
    }
  }

  private requireDcap(): void {
    this.requireGramine();
    const typePath = join(this.root, 'attestation_type');
    if (!this.fs.exists(typePath)) {
      throw new AttestationError('PROVIDER', `${typePath} does not exist: not running under gramine-sgx`);
    }
    const type = this.fs.readFile(typePath).toString('latin1').trim();
    if (type !== 'dcap') throw new AttestationError('PROVIDER', `Gramine attestation_type is "${type}"; set sgx.remote_attestation = "dcap" in the manifest`);
  }

  async attest(reportData: Uint8Array): Promise<AttestationReport> {
    const rd = reportData64(reportData);
    return this.lock.run(() => {
      this.requireDcap();
      this.fs.writeFile(join(this.root, 'user_report_data'), rd);
      const quote = new Uint8Array(this.fs.readFile(join(this.root, 'quote')));
      const q = parseIntelQuote(quote);
      if (q.tee !== 'sgx' || !bytesEqual(q.sgxBody!.reportData, rd)) {
        throw new AttestationError('PROVIDER', 'the quote from /dev/attestation does not carry the report data just written (concurrent writer?)');
      }
      if (!this.cachedMeasurement) this.cachedMeasurement = q.sgxBody!.mrEnclave;
      return { kind: 'sgx', evidence: quote.subarray(0, q.length), simulated: false };
    });
  }

  /** MRENCLAVE, read from a local report (cheap: no Quoting Enclave round trip). */
  async measurement(): Promise<Uint8Array> {
    if (this.cachedMeasurement) return this.cachedMeasurement;
    return this.lock.run(() => {
      this.requireGramine();
      this.fs.writeFile(join(this.root, 'user_report_data'), new Uint8Array(64));
      const report = this.fs.readFile(join(this.root, 'report'));
      this.cachedMeasurement = parseSgxReportBody(report.subarray(0, 384), 'SGX local report').mrEnclave;
      return this.cachedMeasurement;
    });
  }

  async sealer(): Promise<Sealer> {
    if (!this.cachedSealer) {
      const name = this.opts.sealKeyName ?? '_sgx_mrenclave';
      this.requireGramine();
      const key = this.fs.readFile(join(this.root, 'keys', name));
      if (key.length !== 16) throw new AttestationError('PROVIDER', `Gramine sealing key ${name} is ${key.length} bytes, expected 16`);
      // HKDF stretches the 128-bit SGX sealing key to AES-256 and separates Goten's use from others.
      this.cachedSealer = Sealer.derive(key, 'goten-sgx-seal-v1', name);
      key.fill(0);
    }
    return this.cachedSealer;
  }
}
