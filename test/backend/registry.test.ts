/** The backend registry (src/backend/index.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendNames, getBackend, isBackendName, nativeAvailability } from '../../src/backend/index.js';

describe('backend registry', () => {
  it('lists js, native and auto', () => {
    assert.deepEqual([...backendNames], ['js', 'native', 'auto']);
    assert.ok(isBackendName('js') && isBackendName('auto') && !isBackendName('cuda'));
  });

  it('getBackend("js") is the shared js instance', () => {
    const a = getBackend('js');
    assert.equal(a.name, 'js');
    assert.equal(getBackend('js'), a);
  });

  it('unknown names throw with the list of valid ones', () => {
    assert.throws(() => getBackend('cuda' as never), /unknown backend 'cuda'.*js, native, auto/);
  });

  it('auto picks native when available, else js with one warning on stderr', () => {
    const avail = nativeAvailability();
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const a = getBackend('auto');
      const b = getBackend('auto');
      assert.equal(a, b);
      if (avail.available) {
        assert.equal(a.name, 'native');
        assert.equal(lines.length, 0);
      } else {
        assert.equal(a.name, 'js');
        assert.equal(lines.length, 1, 'warns exactly once');
        assert.match(lines[0], /native backend unavailable/);
        assert.throws(() => getBackend('native'), /backend 'native' is unavailable/);
      }
    } finally {
      process.stderr.write = write;
    }
  });
});
