/**
 * Undo records for the per-attempt state of the secure executor (attempt counters, operand
 * versions), so that an attempt lost with its session can run again from the state before it
 * (recovery.ts) without copying whole maps before every attempt.
 *
 * `mark()` starts a new record and costs nothing; every change made after it notes the old value
 * (one triple in a reused array: no allocation once the array has grown to an op's size), and
 * `undo(mark)` replays the notes backwards. Attempts run one at a time, so only the latest mark can
 * be undone; an older one is refused rather than half-restored.
 */

/** Opaque: the mark an attempt's state was taken under. */
export type UndoMark = number & { readonly __undoMark: true };

const ABSENT: unique symbol = Symbol('absent');

export class UndoLog {
  /** 0: no mark taken yet (nothing is recorded). */
  #mark = 0;
  /** Triples: container, key, previous value (ABSENT: the key was not in the map; booleans for sets). */
  readonly #notes: unknown[] = [];

  mark(): UndoMark {
    this.#notes.length = 0;
    return ++this.#mark as UndoMark;
  }

  /** Key `k` of `m` is about to be set or deleted. */
  willChange<K, V>(m: Map<K, V>, k: K): void {
    if (this.#mark !== 0) this.#notes.push(m, k, m.has(k) ? m.get(k) : ABSENT);
  }

  /** Key `k` of `s` is about to be added or deleted. */
  willChangeSet<K>(s: Set<K>, k: K): void {
    if (this.#mark !== 0) this.#notes.push(s, k, s.has(k));
  }

  /** Every key of `c` is about to go (clear()). */
  willClear<K, V>(c: Map<K, V> | Set<K>): void {
    if (c instanceof Map) for (const k of c.keys()) this.willChange(c, k);
    else for (const k of c) this.willChangeSet(c, k);
  }

  /** Puts back what changed since `mark`, which must be the latest mark. */
  undo(mark: UndoMark): void {
    if (mark !== this.#mark) throw new Error(`undo: mark ${mark} is not the latest (${this.#mark}); only the state before the latest attempt can be restored`);
    const n = this.#notes;
    for (let i = n.length - 3; i >= 0; i -= 3) {
      const c = n[i];
      const k = n[i + 1];
      const v = n[i + 2];
      if (c instanceof Map) {
        if (v === ABSENT) c.delete(k);
        else c.set(k, v);
      } else if (v) (c as Set<unknown>).add(k);
      else (c as Set<unknown>).delete(k);
    }
    n.length = 0;
  }
}
