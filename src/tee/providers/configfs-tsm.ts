/**
 * TDX and SEV-SNP confidential VMs through Linux configfs-tsm (docs/tee.md §9):
 * /sys/kernel/config/tsm/report/<entry>/{inblob (W, exactly 64 B), outblob (R), provider (R), generation (R),
 * auxblob (R, SNP: certificate table), privlevel (W, SNP VMPL)}.
 *
 * Flow (after go-configfs-tsm's report.Get): mkdtemp an entry → read generation g0 → write inblob (one write)
 * → [SNP: write privlevel] → read outblob, provider, [auxblob] → read generation again and require g0 + writes
 * (otherwise another process wrote to the entry in between: discard and retry) → rmdir the entry.
 * The provider name must be "tdx_guest" / "sev_guest" and the returned evidence must carry our report data.
 *
 * SNP auxblob = GHCB certificate table: entries {GUID (16 B, textual byte order), offset u32, length u32},
 * terminated by an all-zero entry; offsets from the table start. VCEK/ASK/ARK are attached to the report so
 * the verifier can check the chain offline. Not run on TDX/SNP hardware here: tested against a fake tree.
 *
 * Sealing: configfs-tsm offers no sealing key (TDX has none in hardware; SNP's derived keys need the
 * /dev/sev-guest ioctl). Pass `sealingKey`/`sealingKeyFile` — e.g. a key released by a key broker after
 * attestation, or one on the CVM's encrypted disk. Without it `seal()` refuses with NO_KEY.
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { AttestationError, SealError } from '../errors.js';
import { bytesEqual, isAllZero, toHex } from '../bytes.js';
import type { AttestationReport } from '../evidence.js';
import { BaseProvider, Mutex, reportData64, type CommonProviderOptions } from '../provider.js';
import { Sealer } from '../seal.js';
import { parseIntelQuote } from '../verify/intel-quote.js';
import { parseSnpReport, SNP_REPORT_SIZE } from '../verify/snp-report.js';
import { nodeFs, type ProviderFs } from './fs-ops.js';

export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';

export const SNP_CERT_GUIDS: Record<string, string> = {
  '63da758de6644564adc5f4b93be8accd': 'VCEK',
  a8074bc2a25a483eaae639c045a0b8a1: 'VLEK',
  '4ab7b379bbac4fe4a02f05aef327c782': 'ASK',
  c0b406a4a803495297433fb6014cd0ae: 'ARK',
};

export interface TsmOptions extends CommonProviderOptions {
  /** default /sys/kernel/config/tsm/report */
  root?: string;
  fs?: ProviderFs;
  /** SEV-SNP only: VMPL to request (written to privlevel) */
  privlevel?: number;
  /** extra certificates (PEM/DER) to attach, e.g. a VCEK fetched from AMD KDS when auxblob is empty */
  extraCerts?: Uint8Array;
  /** 32-byte key material for sealing (there is no hardware sealing key through configfs-tsm) */
  sealingKey?: Uint8Array;
  sealingKeyFile?: string;
}

/** Parses an SNP GHCB certificate table into named DER certificates. */
export function parseSnpCertTable(aux: Uint8Array): { name: string; der: Uint8Array }[] {
  const b = Buffer.from(aux.buffer, aux.byteOffset, aux.byteLength);
  const out: { name: string; der: Uint8Array }[] = [];
  for (let p = 0; p + 24 <= b.length; p += 24) {
    const guid = b.subarray(p, p + 16);
    const off = b.readUInt32LE(p + 16);
    const len = b.readUInt32LE(p + 20);
    if (isAllZero(guid) && off === 0 && len === 0) return out;
    if (off + len > b.length) throw new AttestationError('MALFORMED', 'SNP certificate table entry points past the auxblob');
    out.push({ name: SNP_CERT_GUIDS[toHex(guid)] ?? `guid:${toHex(guid)}`, der: new Uint8Array(b.subarray(off, off + len)) });
  }
  if (b.length === 0) return out;
  throw new AttestationError('MALFORMED', 'SNP certificate table has no terminating entry');
}

export class TsmProvider extends BaseProvider {
  readonly simulated = false;
  readonly root: string;
  private readonly fs: ProviderFs;
  private readonly lock = new Mutex();
  private cachedMeasurement?: Uint8Array;
  private cachedSealer?: Sealer;

  constructor(
    readonly kind: 'tdx' | 'sev-snp',
    private readonly opts: TsmOptions = {},
  ) {
    super(opts);
    this.root = opts.root ?? TSM_REPORT_ROOT;
    this.fs = opts.fs ?? nodeFs;
  }

  private expectedProvider(): string {
    return this.kind === 'tdx' ? 'tdx_guest' : 'sev_guest';
  }

  async attest(reportData: Uint8Array): Promise<AttestationReport> {
    const rd = reportData64(reportData);
    return this.lock.run(() => {
      if (!this.fs.exists(this.root)) {
        throw new AttestationError('PROVIDER', `${this.root} does not exist: configfs-tsm needs Linux ≥ 6.7 in a ${this.kind} guest with configfs mounted`);
      }
      for (let attempt = 1; attempt <= 3; attempt++) {
        const entry = this.fs.mkdtemp(join(this.root, 'goten-'));
        try {
          const gen = () => Number(this.fs.readFile(join(entry, 'generation')).toString('latin1').trim());
          let expected = gen() + 1;
          this.fs.writeFile(join(entry, 'inblob'), rd);
          if (this.kind === 'sev-snp' && this.opts.privlevel !== undefined) {
            this.fs.writeFile(join(entry, 'privlevel'), String(this.opts.privlevel));
            expected++;
          }
          const out = new Uint8Array(this.fs.readFile(join(entry, 'outblob')));
          const provider = this.fs.readFile(join(entry, 'provider')).toString('latin1').trim();
          const aux = this.kind === 'sev-snp' && this.fs.exists(join(entry, 'auxblob')) ? new Uint8Array(this.fs.readFile(join(entry, 'auxblob'))) : undefined;
          if (gen() !== expected) continue; // someone else wrote to our entry: the outblob may not be ours
          if (provider !== this.expectedProvider()) {
            throw new AttestationError('PROVIDER', `configfs-tsm provider is "${provider}", expected "${this.expectedProvider()}"`);
          }
          return this.finish(out, rd, aux);
        } finally {
          this.fs.rmdir(entry);
        }
      }
      throw new AttestationError('PROVIDER', 'configfs-tsm entry was modified by another writer three times in a row');
    });
  }

  private finish(out: Uint8Array, rd: Uint8Array, aux?: Uint8Array): AttestationReport {
    if (this.kind === 'tdx') {
      const q = parseIntelQuote(out);
      if (q.tee !== 'tdx' || !bytesEqual(q.tdBody!.reportData, rd)) throw new AttestationError('PROVIDER', 'TDX quote does not carry the report data just written');
      this.cachedMeasurement ??= q.tdBody!.mrTd;
      return { kind: 'tdx', evidence: out.subarray(0, q.length), simulated: false };
    }
    const r = parseSnpReport(out.subarray(0, SNP_REPORT_SIZE));
    if (!bytesEqual(r.reportData, rd)) throw new AttestationError('PROVIDER', 'SEV-SNP report does not carry the report data just written');
    this.cachedMeasurement ??= r.measurement;
    const pems = (aux ? parseSnpCertTable(aux) : []).filter((c) => ['VCEK', 'ASK', 'ARK'].includes(c.name)).map((c) => new X509Certificate(Buffer.from(c.der)).toString());
    const extra = this.opts.extraCerts ? toPem(this.opts.extraCerts) : '';
    const certs = pems.join('') + extra;
    return { kind: 'sev-snp', evidence: out.subarray(0, SNP_REPORT_SIZE), certs: certs ? new Uint8Array(Buffer.from(certs, 'latin1')) : undefined, simulated: false };
  }

  /** MRTD / MEASUREMENT, from a report over zero report data (cached after any attestation). */
  async measurement(): Promise<Uint8Array> {
    if (!this.cachedMeasurement) await this.attest(new Uint8Array(64));
    return this.cachedMeasurement!;
  }

  async sealer(): Promise<Sealer> {
    if (!this.cachedSealer) {
      const key = this.opts.sealingKey ?? (this.opts.sealingKeyFile ? this.fs.readFile(this.opts.sealingKeyFile) : undefined);
      if (!key) {
        throw new SealError('NO_KEY', `${this.kind} via configfs-tsm has no hardware sealing key: pass sealingKey/sealingKeyFile (e.g. from a key broker after attestation)`);
      }
      if (key.length < 32) throw new SealError('NO_KEY', `${this.kind} sealing key material must be at least 32 bytes`);
      this.cachedSealer = Sealer.derive(key, 'goten-cvm-seal-v1', this.kind);
    }
    return this.cachedSealer;
  }
}

function toPem(b: Uint8Array): string {
  const text = Buffer.from(b).toString('latin1');
  return text.includes('-----BEGIN CERTIFICATE-----') ? text : new X509Certificate(Buffer.from(b)).toString();
}
