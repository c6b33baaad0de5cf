/**
 * The undo log behind a retried attempt's state (src/protocol/undo-log.ts): random changes to maps and
 * sets after a mark are undone to exactly the state at the mark (compared with a copy taken then), an
 * older mark is refused, and the attempt counters and operand versions go back to what they were before
 * an attempt (what recovery.ts relies on for a bit-identical re-run).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttemptCounter } from '../../src/protocol/op-streams.js';
import { OperandTracker } from '../../src/protocol/operands.js';
import { UndoLog } from '../../src/protocol/undo-log.js';
import { Rng } from '../../src/nn/rng.js';

const reuseNone = { a: false, b: false };
const reuseBoth = { a: true, b: true };
const x = Float32Array.of(0.5, -3, 2);
const exponent = () => 1;

function randomChanges(rng: Rng, log: UndoLog, m: Map<string, number>, s: Set<string>, n: number): void {
  for (let i = 0; i < n; i++) {
    const k = `k${rng.int(12)}`;
    const what = rng.int(6);
    if (what < 2) log.set(m, k, rng.int(1000));
    else if (what === 2) log.delete(m, k);
    else if (what === 3) log.add(s, k);
    else if (what === 4) log.remove(s, k);
    else log.clear(rng.int(2) ? m : s);
  }
}

describe('undo log', () => {
  it('undoes any sequence of map and set changes to the state at the latest mark', () => {
    const rng = new Rng(7);
    const log = new UndoLog();
    const m = new Map<string, number>();
    const s = new Set<string>();
    for (let round = 0; round < 200; round++) {
      randomChanges(rng, log, m, s, rng.int(8)); // changes between attempts (kept)
      const mark = log.mark();
      const mAt = [...m];
      const sAt = [...s];
      randomChanges(rng, log, m, s, rng.int(30));
      if (rng.int(3) === 0) continue; // the attempt succeeded: nothing to undo
      log.undo(mark);
      assert.deepEqual([...m].sort(), mAt.sort(), `round ${round}: map`);
      assert.deepEqual([...s].sort(), sAt.sort(), `round ${round}: set`);
    }
  });

  it('refuses a mark older than the latest', () => {
    const log = new UndoLog();
    const old = log.mark();
    log.mark();
    assert.throws(() => log.undo(old), /not the latest/);
  });

  it('records nothing before the first mark', () => {
    const log = new UndoLog();
    const m = new Map([['a', 1]]);
    log.set(m, 'a', 2);
    const mark = log.mark();
    log.undo(mark);
    assert.equal(m.get('a'), 2);
  });

  it('puts the attempt counters back to the mark', () => {
    const log = new UndoLog();
    const c = new AttemptCounter(log);
    c.take(0, 'forward');
    c.take(1, 'W');
    const mark = log.mark();
    const before = c.getState();
    c.take(0, 'forward');
    c.take(2, 'grad-input');
    c.take(1, 'W');
    log.undo(mark);
    assert.deepEqual(c.getState(), before);
    assert.equal(c.take(2, 'grad-input'), 0, 'a counter first taken after the mark starts again from 0');
  });

  it('puts operand versions, exponents and resend marks back, so the re-run plans the same versions', () => {
    const log = new UndoLog();
    const counter = new AttemptCounter(log);
    const t = new OperandTracker(counter, log);
    t.plan(0, 'forward', reuseNone, 0, x, x, exponent, true);
    t.resendAll();
    const mark = log.mark(); // one mark for counters and operand versions, as the secure executor takes it
    const first = t.plan(0, 'grad-weight', reuseBoth, 0, x, x, exponent, true);
    t.confirm(0, first[0], 100);
    t.clear();
    t.plan(0, 'forward', reuseNone, 2, x, x, exponent, true);
    log.undo(mark);
    assert.deepEqual(t.plan(0, 'grad-weight', reuseBoth, 0, x, x, exponent, true), first);
  });
});
