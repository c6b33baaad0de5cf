/** Shared test helpers for test/tee: fixture access and assertion of refusal codes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AttestationError, SealError } from '../../src/tee/index.js';

export const FIX = new URL('./fixtures/attestation/', import.meta.url);
export const fixture = (rel: string): Uint8Array => new Uint8Array(readFileSync(new URL(rel, FIX)));
export const fixtureText = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');

/** Inside every fixture chain's validity (docs/tee.md §2). */
export const PINNED_NOW = new Date('2026-06-01T00:00:00Z');

export function throwsCode(fn: () => unknown, code: string, msg?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AttestationError || e instanceof SealError, `expected a coded error, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (msg) assert.match(e.message, msg);
    return true;
  });
}

export async function rejectsCode(p: Promise<unknown>, code: string, msg?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AttestationError || e instanceof SealError, `expected a coded error, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (msg) assert.match(e.message, msg);
    return true;
  });
}

export function flip(b: Uint8Array, at: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[at] ^= 0x01;
  return c;
}
