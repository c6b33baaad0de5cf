/**
 * The simulated TEE — for development and CI only, with NO security: its "quoting key" is a plain file
 * any local user with read access can use, so anyone can forge its reports and unseal its data.
 * It exists so that development runs the same attestation, policy and sealing code paths as hardware.
 *
 * Key file (JSON, mode 0600, created on first use with O_EXCL so concurrent first uses agree):
 *   {"type":"goten-simulated-quoting-key","version":1,"warning":"...","ed25519Pkcs8":"<base64 PKCS#8 DER>"}
 * Default path: $GOTEN_SIM_QUOTING_KEY, else ~/.goten/sim-quoting-key.
 * Sealing key: HKDF-SHA256(PKCS#8 bytes, salt "goten-sim-seal-v1", info = "signer" or "measurement:<hex>")
 * — `sealBinding: 'measurement'` mimics SGX MRENCLAVE sealing (a code change makes old data unreadable).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { AttestationError } from '../errors.js';
import { toHex } from '../bytes.js';
import type { AttestationReport } from '../evidence.js';
import { measureCodeBundle } from '../measure.js';
import { BaseProvider, reportData64, type CommonProviderOptions } from '../provider.js';
import { Sealer } from '../seal.js';
import { buildSimulatedReport, ed25519RawPublicKey } from '../verify/simulated.js';

export const SIMULATED_WARNING = 'SIMULATED TEE — NO SECURITY: development/CI only; reports can be forged and sealed data read by anyone with the key file';

export interface SimulatedProviderOptions extends CommonProviderOptions {
  /** quoting-key file; default $GOTEN_SIM_QUOTING_KEY or ~/.goten/sim-quoting-key */
  keyPath?: string;
  /** directory tree to measure; default the running code bundle (measure.ts) */
  codeRoot?: string;
  /** fixed measurement (hex or bytes, 32 B) instead of measuring a tree — tests only */
  measurementOverride?: Uint8Array;
  productId?: number;
  svn?: number;
  sealBinding?: 'signer' | 'measurement';
  /** where the loud warnings go; default stderr */
  warn?: (line: string) => void;
}

export function defaultSimKeyPath(): string {
  return process.env.GOTEN_SIM_QUOTING_KEY || join(homedir(), '.goten', 'sim-quoting-key');
}

interface KeyFile {
  type: string;
  version: number;
  ed25519Pkcs8: string;
}

/** Loads the quoting key, creating it (0600, exclusive create) if the file does not exist. */
export function loadOrCreateQuotingKey(path: string): { privateKey: KeyObject; publicKey: KeyObject; pkcs8: Buffer; created: boolean } {
  let created = false;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const kf: KeyFile & { warning: string } = {
      type: 'goten-simulated-quoting-key',
      version: 1,
      warning: SIMULATED_WARNING,
      ed25519Pkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    };
    try {
      writeFileSync(path, JSON.stringify(kf, null, 1) + '\n', { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw e2;
    }
    text = readFileSync(path, 'utf8');
  }
  let kf: KeyFile;
  try {
    kf = JSON.parse(text) as KeyFile;
    if (kf.type !== 'goten-simulated-quoting-key' || kf.version !== 1) throw new Error('wrong type');
  } catch {
    throw new AttestationError('PROVIDER', `${path} is not a Goten simulated quoting-key file`);
  }
  const pkcs8 = Buffer.from(kf.ed25519Pkcs8, 'base64');
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new AttestationError('PROVIDER', `${path} does not hold an Ed25519 key`);
  return { privateKey, publicKey: createPublicKey(privateKey), pkcs8, created };
}

export class SimulatedProvider extends BaseProvider {
  readonly kind = 'simulated' as const;
  readonly simulated = true;
  readonly keyPath: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly pkcs8: Buffer;
  private readonly warn: (line: string) => void;
  private cachedSealer?: Sealer;

  constructor(private readonly opts: SimulatedProviderOptions = {}) {
    super(opts);
    this.warn = opts.warn ?? ((l) => process.stderr.write(l + '\n'));
    this.keyPath = opts.keyPath ?? defaultSimKeyPath();
    const k = loadOrCreateQuotingKey(this.keyPath);
    this.privateKey = k.privateKey;
    this.publicKey = k.publicKey;
    this.pkcs8 = k.pkcs8;
    this.warn(`WARNING: ${SIMULATED_WARNING}. Quoting key ${k.created ? 'created at' : 'loaded from'} ${this.keyPath} (public ${this.quotingPublicKeyHex()})`);
  }

  /** Raw Ed25519 public key (hex) — what a development policy lists in `simulatedQuotingKeys`. */
  quotingPublicKeyHex(): string {
    return toHex(ed25519RawPublicKey(this.publicKey));
  }

  async measurement(): Promise<Uint8Array> {
    if (this.opts.measurementOverride) return this.opts.measurementOverride;
    return measureCodeBundle(this.opts.codeRoot).digest;
  }

  async attest(reportData: Uint8Array): Promise<AttestationReport> {
    const rd = reportData64(reportData);
    this.warn(`WARNING: ${SIMULATED_WARNING} (producing a simulated attestation report)`);
    const evidence = buildSimulatedReport(
      { measurement: await this.measurement(), productId: this.opts.productId ?? 0, svn: this.opts.svn ?? 0, timestampMs: Date.now(), reportData: rd },
      this.privateKey,
      this.publicKey,
    );
    return { kind: 'simulated', evidence, simulated: true };
  }

  async sealer(): Promise<Sealer> {
    if (!this.cachedSealer) {
      const info = this.opts.sealBinding === 'measurement' ? `measurement:${toHex(await this.measurement())}` : 'signer';
      this.cachedSealer = Sealer.derive(this.pkcs8, 'goten-sim-seal-v1', info);
    }
    return this.cachedSealer;
  }
}
