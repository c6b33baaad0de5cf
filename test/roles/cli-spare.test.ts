/**
 * Spare workers from the command line (issue 11, item 1; docs/net.md, "Spare workers"): in a
 * hand-started cluster with a spare s0, a worker whose result fails verification (`--inject-fault
 * corrupt:<op>`, `--verify all`) is replaced by the spare: the op is re-run in a new session with s0 in
 * its role, the run exits 0 and its numbers equal an uninterrupted run's to the last bit. A worker lost
 * (crashed, or a lean w0 stalled) for longer than --reconnect-timeout is replaced the same way. (Without a spare the same faults stop
 * the run: cli-verify.test.ts, cli-recovery.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedOutcome, outcome } from './recovery-rig.js';
import { spareRun } from './spare-rig.js';

describe('goten train --cluster with a spare worker', { timeout: 300_000 }, () => {
  it('lean: w0 corrupts its op 3; spare s0 takes its role; exit 0, the uninterrupted numbers', async () => {
    const r = await spareRun({ protocol: 'lean', faulty: 0, fault: 'corrupt:3', spares: 1, extra: ['--verify', 'all'] });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.logs.w0, /FAULT INJECTED: added 1/);
    assert.match(r.stderr, /w0's result failed verification at \S+, (forward|grad-input|grad-weight); replacing w0 with spare s0/);
    assert.match(r.logs.s0, /s0: playing w0 in this session/);
    assert.deepEqual(outcome(r.stdout), expectedOutcome());
  });

  it('lean: w1 (the hub the others dial) corrupts its op 2; s0 plays w1; exit 0, the same numbers', async () => {
    const r = await spareRun({ protocol: 'lean', faulty: 1, fault: 'corrupt:2', spares: 1, extra: ['--verify', 'all'] });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /w1's result failed verification at \S+, \S+; replacing w1 with spare s0/);
    assert.match(r.logs.s0, /s0: playing w1 in this session/);
    assert.deepEqual(outcome(r.stdout), expectedOutcome());
  });

  it('goten: w2 corrupts its op 2; s0 plays w2; exit 0, the same numbers', async () => {
    const r = await spareRun({ protocol: 'goten', faulty: 2, fault: 'corrupt:2', spares: 1, extra: ['--verify', 'all'] });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /w2's result failed verification at \S+, \S+; replacing w2 with spare s0/);
    assert.deepEqual(outcome(r.stdout), expectedOutcome());
  });

  it('lean: w1 crashes and does not come back within --reconnect-timeout; s0 takes its role', async () => {
    const r = await spareRun({ protocol: 'lean', faulty: 1, fault: 'crash:5', spares: 1, extra: ['--reconnect-timeout', '2'] });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /w1 did not come back within 2 s at \S+, \S+; replacing w1 with spare s0/);
    assert.deepEqual(outcome(r.stdout), expectedOutcome());
  });

  it('lean: a stalled w0 (first reported as w1, whose aggregate waits for it) is the one replaced', async () => {
    const r = await spareRun({ protocol: 'lean', faulty: 0, fault: 'stall:3', spares: 1, extra: ['--op-timeout', '2', '--reconnect-timeout', '5'] });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /w0 did not come back within 5 s at \S+, \S+; replacing w0 with spare s0/);
    assert.deepEqual(outcome(r.stdout), expectedOutcome());
  });
});
