/**
 * Naming of the PRG streams one linear-op attempt consumes.
 *
 * Every stream is (key, 64-bit stream id) — see field/prg.ts. Keys are per
 * purpose (MASK_KEY_NAMES, plus the rounding-noise key); the stream id says
 * which op attempt or which operand a stream belongs to, so that every party
 * holding a key draws the same values from nothing but the ids in the request:
 *
 *   op streams       id = streamIdFor(op = layer index, pass code 0–2, invocation = attempt, slot)
 *   operand streams  id = streamIdFor(op = layer index, kind code 16–18, invocation = version, slot)
 *
 * `attempt` is a per-(layer, pass) counter that increases on every attempt,
 * retries after a detected overflow included; `version` is a per-(layer, kind)
 * counter that increases every time an operand (W, X or dY; operands.ts) is
 * quantized anew. So no mask is ever drawn twice under one key, and one
 * operand version is masked with one mask however often it is used.
 */
import type { BilinearPass, OperandKind } from '../backend/bilinear.js';
import { streamIdFor } from '../field/prg.js';
import { UndoLog } from './undo-log.js';

/**
 * Purposes with their own mask key (key-schedule.ts WORKER_STREAMS says who holds which):
 * the paper's protocol draws A0, B0, U, V, CM0, CM1, CMZ per op attempt; the lean one draws
 * S0 and D per operand version (the mask of an operand is S0 + D) and CM0, CM1, T per attempt.
 */
export const MASK_KEY_NAMES = ['A0', 'B0', 'U', 'V', 'CM0', 'CM1', 'CMZ', 'S0', 'D', 'T'] as const;
export type MaskKeyName = (typeof MASK_KEY_NAMES)[number];
export type MaskKeys = Readonly<Record<MaskKeyName, Uint8Array>>;

/** Slots of one attempt: which tensor a stream fills (masks use slot Main under their own key). */
export const SLOT_MAIN = 0;
/** Slot of an operand version's rounding noise (under the noise key). */
export const SLOT_NOISE = 1;

export const PASS_CODE: Readonly<Record<BilinearPass, number>> = { forward: 0, 'grad-input': 1, 'grad-weight': 2 };
export const PASS_BY_CODE: readonly BilinearPass[] = ['forward', 'grad-input', 'grad-weight'];

/** Codes of the operand kinds in operand stream ids (distinct from the pass codes). */
export const KIND_CODE: Readonly<Record<OperandKind, number>> = { W: 16, X: 17, dY: 18 };

/** The 64-bit stream id of one (layer, pass, attempt, slot). */
export function opStreamId(layerIndex: number, pass: BilinearPass, attempt: number, slot: number): bigint {
  return streamIdFor(layerIndex, PASS_CODE[pass], attempt, slot);
}

/** The 64-bit stream id of one (layer, operand kind, version, slot). */
export function operandStreamId(layerIndex: number, kind: OperandKind, version: number, slot: number): bigint {
  return streamIdFor(layerIndex, KIND_CODE[kind], version, slot);
}

/**
 * Per-(layer, pass) attempt counters and per-(layer, operand kind) version counters
 * (operands.ts); every attempt or version takes a fresh number.
 */
export class AttemptCounter {
  readonly #next = new Map<string, number>();
  /** Notes every change while an attempt's mark is open (the secure executor's log, for recovery). */
  readonly #undo: UndoLog;

  constructor(undo: UndoLog = new UndoLog()) {
    this.#undo = undo;
  }

  /** Takes the next number for this (layer, pass) or (layer, operand kind). */
  take(layerIndex: number, pass: BilinearPass | OperandKind): number {
    const key = `${layerIndex}/${pass}`;
    const n = this.#next.get(key) ?? 0;
    this.#undo.set(this.#next, key, n + 1);
    return n;
  }

  /** Serialisable state, for checkpoints. */
  getState(): Record<string, number> {
    return Object.fromEntries(this.#next);
  }

  /**
   * Restores counters (checkpoint resume). Counters never go backwards: under the
   * same keys a lower counter would draw the same masks again (a two-time pad).
   */
  setState(s: Record<string, number>): void {
    for (const [k, v] of Object.entries(s)) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`attempt counter ${k} must be a non-negative integer, got ${v}`);
      if (v < (this.#next.get(k) ?? 0)) throw new RangeError(`attempt counter ${k} cannot go back from ${this.#next.get(k)} to ${v} (masks would repeat)`);
    }
    for (const [k, v] of Object.entries(s)) this.#undo.set(this.#next, k, v);
  }
}
