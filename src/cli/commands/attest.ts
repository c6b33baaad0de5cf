/**
 * `goten attest`: produce or verify TEE attestation reports.
 *
 *   goten attest --provider simulated --report-data <hex> --out report.bin      produce (≤ 64 bytes of report data)
 *   goten attest --provider simulated --bind-key <pubkey.pem> --out report.bin  produce, report data = goten-v1 binding
 *   goten attest --provider simulated --print-policy                            print a development policy for this machine
 *   goten attest --verify report.bin --policy policy.json [--key-binding <pubkey file>] [--nonce <hex>]
 *                [--certs <pem/der>] [--collateral <json>] [--at <ISO time>] [--json]
 *
 * Verification prints the verdict and exits 1 on refusal (the reason's code first, e.g. MEASUREMENT_MISMATCH).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  AttestationError, bindingReportData, createProvider, decodeReport, encodeReport, loadPolicy, publicKeyBytes, SimulatedProvider,
  TEE_KINDS, verifyReport, type IntelCollateral, type TeeKind,
} from '../../tee/index.js';
import { fromHex, toHex } from '../../tee/bytes.js';

interface AttestOpts {
  provider?: string;
  reportData?: string;
  bindKey?: string;
  nonce?: string;
  out?: string;
  printPolicy?: boolean;
  simKey?: string;
  codeRoot?: string;
  root?: string;
  verify?: string;
  policy?: string;
  keyBinding?: string;
  certs?: string;
  collateral?: string;
  at?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('attest')
    .description('produce a TEE attestation report, or verify one against a policy (exit 1 on refusal)')
    .option('--provider <kind>', `TEE provider: ${TEE_KINDS.join(', ')}`)
    .option('--report-data <hex>', 'caller data to bind (≤ 64 bytes, zero-padded)')
    .option('--bind-key <file>', 'bind this public key (PEM/DER/hex) with the goten-v1 rule instead of --report-data')
    .option('--nonce <hex>', 'freshness nonce for --bind-key / --key-binding')
    .option('--out <file>', 'where to write the report (GOTENATT container)')
    .option('--print-policy', 'print a development policy accepting this (simulated) enclave')
    .option('--sim-key <file>', 'simulated quoting-key file (default $GOTEN_SIM_QUOTING_KEY or ~/.goten/sim-quoting-key)')
    .option('--code-root <dir>', 'simulated: directory tree to measure (default the running code bundle)')
    .option('--root <dir>', 'hardware providers: /dev/attestation or the configfs-tsm report directory')
    .option('--verify <file>', 'verify this report (container or raw quote/report)')
    .option('--policy <file>', 'policy JSON for --verify')
    .option('--key-binding <file>', "the enclave's expected public key (PEM/DER/hex) that the report data must bind")
    .option('--certs <file>', 'certificates to use with raw SEV-SNP reports (VCEK, ASK, ARK; PEM or DER)')
    .option('--collateral <file>', 'Intel collateral JSON (dcap-qvl QuoteCollateralV3) for TCB/CRL checks')
    .option('--at <time>', 'verify as of this ISO time instead of now')
    .option('--json', 'print the verdict as JSON')
    .action(async (o: AttestOpts) => {
      if (o.verify) return verifyCommand(o);
      return produceCommand(o);
    });
}

async function produceCommand(o: AttestOpts): Promise<void> {
  if (!o.provider) throw new Error('give --provider <kind> to produce a report, or --verify <file>');
  const provider = createProvider(o.provider as TeeKind, { keyPath: o.simKey, codeRoot: o.codeRoot, root: o.root });
  if (o.printPolicy) {
    const m = toHex(await provider.measurement());
    const policy = {
      $comment: 'DEVELOPMENT policy: accepts the SIMULATED TEE (no security). Never use it in production.',
      allowedKinds: [provider.kind === 'sgx-gramine' ? 'sgx' : provider.kind],
      measurements: [m],
      allowDebug: provider.simulated,
      allowSimulated: provider.simulated,
      simulatedQuotingKeys: provider instanceof SimulatedProvider ? [provider.quotingPublicKeyHex()] : [],
      keyBinding: 'goten-v1',
      acceptUnchecked: [],
    };
    process.stdout.write(JSON.stringify(policy, null, 2) + '\n');
    return;
  }
  if (!o.out) throw new Error('give --out <file> for the report');
  if ((o.reportData === undefined) === (o.bindKey === undefined)) throw new Error('give exactly one of --report-data <hex> or --bind-key <file>');
  const rd = o.bindKey
    ? bindingReportData('goten-v1', { publicKey: publicKeyBytes(readFileSync(o.bindKey)), nonce: o.nonce ? fromHex(o.nonce, '--nonce') : undefined })
    : fromHex(o.reportData!, '--report-data');
  if (rd.length > 64) throw new Error(`--report-data is ${rd.length} bytes; at most 64`);
  const report = await provider.attest(rd);
  writeFileSync(o.out, encodeReport(report));
  process.stdout.write(`wrote ${o.out}: ${report.kind}${report.simulated ? ' (SIMULATED — NO SECURITY)' : ''}, ${report.evidence.length}-byte evidence\n`);
}

function verifyCommand(o: AttestOpts): void {
  if (!o.policy) throw new Error('--verify needs --policy <file>');
  const policy = loadPolicy(o.policy);
  const report = decodeReport(readFileSync(o.verify!));
  if (o.certs) report.certs = new Uint8Array(readFileSync(o.certs));
  const collateral = o.collateral ? (JSON.parse(readFileSync(o.collateral, 'utf8')) as IntelCollateral) : undefined;
  const now = o.at ? new Date(o.at) : undefined;
  if (now && Number.isNaN(now.getTime())) throw new Error(`--at "${o.at}" is not a date`);
  const expectedKeyBinding = o.keyBinding
    ? { publicKey: publicKeyBytes(readFileSync(o.keyBinding)), nonce: o.nonce ? fromHex(o.nonce, '--nonce') : undefined }
    : undefined;
  try {
    const v = verifyReport(report, policy, { expectedKeyBinding, collateral, now });
    if (o.json) {
      process.stdout.write(JSON.stringify({ verdict: 'accepted', ...v }, null, 2) + '\n');
      return;
    }
    const c = v.claims;
    const lines = [
      `ACCEPTED: ${c.format}${c.simulated ? ' — SIMULATED TEE, NO SECURITY' : ''}`,
      `  measurement  ${c.measurement}`,
      ...(c.signer ? [`  signer       ${c.signer}`] : []),
      `  debug        ${c.debug}`,
      `  report data  ${c.reportData}`,
      `  tcb          ${c.tcb.detail ?? c.tcb.status}`,
      `  verified at  ${v.verifiedAt}`,
      '  checked:',
      ...v.checks.map((x) => `    ✓ ${x.id}: ${x.detail}`),
      ...(v.acceptedUnchecked.length ? ['  NOT checked (accepted by the policy):', ...v.acceptedUnchecked.map((u) => `    - ${u.id}: ${u.reason}`)] : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    if (o.json) process.stdout.write(JSON.stringify({ verdict: 'refused', code: e.code, reason: e.message }, null, 2) + '\n');
    else process.stdout.write(`REFUSED: ${e.message}\n`);
    process.exitCode = 1;
  }
}
