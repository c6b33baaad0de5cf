/**
 * Human tables of `goten bench step` (the JSON lines carry the same numbers).
 */
import type { StepResult } from './step-result.js';

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')).join('\n') + '\n';
}

const f0 = (v: number) => v.toFixed(0);
const f1 = (v: number) => v.toFixed(1);
const mb = (v: number) => (v / 2 ** 20).toFixed(1);

export function printStepTables(results: readonly StepResult[], withLayers: boolean): void {
  if (results.length === 0) return;
  const out = process.stdout;
  const first = results[0];
  out.write(`\n${first.model}, batch ${first.batch}: ms per training step (mean of ${first.steps} measured steps)\n\n`);
  const rows: string[][] = [
    ['mode', 'wall', 'enclave CPU', '(user', 'sys)', 'w0 busy', 'w1 busy', 'w2 busy', 'workers CPU', 'MiB out', 'MiB in', 'M elements', 'ns/element', 'img/h enclave-bound', 'rounds', 'overflows', 'verify ms'],
  ];
  for (const r of results) {
    const w = (p: string) => r.workers.find((x) => x.party === p);
    rows.push([
      r.mode,
      f0(r.wallMs),
      f0(r.enclaveBusyMs),
      f0(r.enclaveUserMs),
      f0(r.enclaveSysMs),
      w('w0') ? f0(w('w0')!.busyMs) : '-',
      w('w1') ? f0(w('w1')!.busyMs) : '-',
      w('w2') ? f0(w('w2')!.busyMs) : '-',
      r.workers.length ? f0(r.workers.reduce((a, x) => a + x.cpuMs, 0)) : '-',
      r.bytes.length ? mb(r.bytes.reduce((a, b) => a + b.sent, 0)) : '-',
      r.bytes.length ? mb(r.bytes.reduce((a, b) => a + b.received, 0)) : '-',
      r.elementsMoved > 0 ? (r.elementsMoved / 1e6).toFixed(1) : '-',
      r.nsPerElement !== null ? r.nsPerElement.toFixed(2) : '-',
      f0(r.enclaveBoundImagesPerHour),
      r.bytes.length ? f1(r.rounds) : '-',
      String(r.overflows),
      r.verifyMs === null ? '-' : `${f0(r.verifyMs)} (${r.verify})`,
    ]);
  }
  out.write(table(rows));

  const pure = results.find((r) => r.mode === 'pure-enclave');
  out.write('\nLinear / non-linear split (the paper\'s Table 3), ms per step: wall | enclave CPU\n\n');
  const t3: string[][] = [['mode', 'linear wall', 'non-linear wall', 'total wall', 'linear CPU', 'non-linear CPU', 'total CPU', 'CPU speed-up vs pure', 'non-linear CPU ÷ pure']];
  for (const r of results) {
    t3.push([
      r.mode,
      f0(r.linear.wallMs),
      f0(r.nonLinear.wallMs),
      f0(r.wallMs),
      f0(r.linear.cpuMs),
      f0(r.nonLinear.cpuMs),
      f0(r.enclaveBusyMs),
      pure ? `${(pure.enclaveBusyMs / r.enclaveBusyMs).toFixed(2)}×` : '-',
      pure && pure.nonLinear.cpuMs > 0 ? `${(r.nonLinear.cpuMs / pure.nonLinear.cpuMs).toFixed(2)}×` : '-',
    ]);
  }
  out.write(table(t3));
  if (pure && results.some((r) => r.bytes.length > 0)) {
    // the same kernels on the same tensors in every mode: what differs is whether the enclave just woke up
    out.write(
      '(non-linear CPU is the same native kernels on the same tensors in every mode; a secure mode pays more for it because it\n' +
        ' runs after waiting for the workers, when the caches are cold: docs/benchmarks.md, "the toll of waiting")\n',
    );
  }

  const secure = results.filter((r) => r.bytes.length > 0);
  if (secure.length > 0) {
    out.write('\nTraffic per step, enclave ↔ each worker: measured frame bytes vs the protocol formula (tensor payloads)\n\n');
    const tr: string[][] = [['mode', 'party', 'sent MiB', 'formula', 'received MiB', 'formula', 'busy ms', 'process CPU ms']];
    for (const r of secure) {
      for (const b of r.bytes) {
        const w = r.workers.find((x) => x.party === b.party);
        tr.push([r.mode, b.party, mb(b.sent), mb(b.formulaSent), mb(b.received), mb(b.formulaReceived), w ? f0(w.busyMs) : '-', w ? f0(w.cpuMs) : '-']);
      }
    }
    out.write(table(tr));
  }
  for (const r of results) {
    if (!r.offline) continue;
    const o = r.offline;
    out.write(
      `\n${r.mode}: offline phase (before the measured steps): ${o.attempts} mask products, ${mb(o.bytes)} MiB sealed, ` +
        `${f0(o.phaseMs)} ms wall, ${f0(o.phaseCpuMs)} ms enclave CPU (${f0(o.phaseMs / r.steps)} ms per step); ` +
        `online phase: ${o.served} served from sealed storage, ${o.onDemand} computed on demand\n`,
    );
  }
  if (withLayers) {
    for (const r of results) {
      out.write(`\n${r.mode}: per layer, enclave CPU ms per step (wall in brackets)\n\n`);
      const lr: string[][] = [['layer', 'type', 'fwd linear', 'fwd non-linear', 'bwd linear', 'bwd non-linear']];
      const s = (x: { wallMs: number; cpuMs: number }) => `${f1(x.cpuMs)} (${f1(x.wallMs)})`;
      for (const l of r.layers) {
        if (l.type === 'flatten') continue;
        lr.push([l.layer, l.type, s(l.fwdLinear), s(l.fwdNonLinear), s(l.bwdLinear), s(l.bwdNonLinear)]);
      }
      out.write(table(lr));
    }
  }
}
