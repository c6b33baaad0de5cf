/**
 * Undo records for the per-attempt state of the secure executor (attempt counters, operand
 * versions), so that an attempt lost with its session can run again from the state before it
 * (recovery.ts) without copying whole maps before every attempt.
 *
 * The owner makes its changes through the log (`set`, `delete`, `add`, `remove`, `clear`).
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

  /** m.set(k, v), noted. */
  set<K, V>(m: Map<K, V>, k: K, v: V): void {
    this.#note(m, k);
    m.set(k, v);
  }

  /** m.delete(k), noted. */
  delete<K, V>(m: Map<K, V>, k: K): void {
    this.#note(m, k);
    m.delete(k);
  }

  /** s.add(k), noted. */
  add<K>(s: Set<K>, k: K): void {
    this.#noteSet(s, k);
    s.add(k);
  }

  /** s.delete(k), noted; whether k was there. */
  remove<K>(s: Set<K>, k: K): boolean {
    if (!s.has(k)) return false;
    this.#noteSet(s, k);
    return s.delete(k);
  }

  /** c.clear(), noted. */
  clear<K, V>(c: Map<K, V> | Set<K>): void {
    if (c instanceof Map) for (const k of c.keys()) this.#note(c, k);
    else for (const k of c) this.#noteSet(c, k);
    c.clear();
  }

  #note<K, V>(m: Map<K, V>, k: K): void {
    if (this.#mark !== 0) this.#notes.push(m, k, m.has(k) ? m.get(k) : ABSENT);
  }

  #noteSet<K>(s: Set<K>, k: K): void {
    if (this.#mark !== 0) this.#notes.push(s, k, s.has(k));
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
