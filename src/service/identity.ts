/**
 * The enclave service's identity: its X25519 channel key (generated inside the TEE at start, never written
 * anywhere) and fresh attestation reports that bind it together with the service configuration and the
 * client's nonce (wire/service-config.ts has the exact report-data formula).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { generateX25519, spkiDer } from '../wire/channel.js';
import { MAX_CLIENT_NONCE, serviceBindingNonce } from '../wire/service-config.js';
import { bindingReportData, encodeReport, SIMULATED_WARNING, type TeeProvider } from '../tee/index.js';
import { HttpError } from './http-util.js';

export interface AttestationAnswer {
  v: 1;
  report: string;
  channelKey: string;
  config: string;
  nonce: string;
  binding: 'goten-v1';
  simulated: boolean;
  warning?: string;
}

export class ServiceIdentity {
  readonly privateKey: KeyObject;
  readonly spki: Buffer;

  constructor(readonly provider: TeeProvider) {
    const k = generateX25519();
    this.privateKey = k.privateKey;
    this.spki = spkiDer(k.publicKey);
  }

  /** A fresh report for `configJson` and the client's nonce (hex, ≤ 32 bytes; 400 otherwise). */
  async attestation(configJson: string, nonceHex: string | null): Promise<AttestationAnswer> {
    let nonce: Buffer;
    if (nonceHex === null || nonceHex === '') nonce = Buffer.alloc(0);
    else {
      if (!/^([0-9a-fA-F]{2})+$/.test(nonceHex) || nonceHex.length > 2 * MAX_CLIENT_NONCE) {
        throw new HttpError(400, 'BAD_NONCE', `nonce must be hex of 1..${MAX_CLIENT_NONCE} bytes`);
      }
      nonce = Buffer.from(nonceHex, 'hex');
    }
    const rd = bindingReportData('goten-v1', { publicKey: this.spki, nonce: serviceBindingNonce(configJson, nonce) });
    const report = await this.provider.attest(rd);
    return {
      v: 1,
      report: Buffer.from(encodeReport(report)).toString('base64'),
      channelKey: this.spki.toString('base64'),
      config: configJson,
      nonce: nonce.toString('hex'),
      binding: 'goten-v1',
      simulated: report.simulated,
      ...(report.simulated ? { warning: SIMULATED_WARNING } : {}),
    };
  }
}

/** A random upload id (hex). */
export const randomId = (bytes = 16): string => randomBytes(bytes).toString('hex');
