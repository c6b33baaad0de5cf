/**
 * A worker's check of the enclave's hello (roles/worker.ts): the role it plays and the roster (which
 * configured party plays each role, docs/net.md "Spare workers") are untrusted input: only configured
 * workers or spares, distinct, and this process in the role it is given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/net/cluster-config.js';
import { generateIdentity } from '../../src/net/identity.js';
import { parseHello } from '../../src/roles/worker.js';

const p = (port: number) => ({ host: '127.0.0.1', port, publicKey: generateIdentity('x').publicKeyText });
const config = parseClusterConfig({ version: 1, parties: { e0: p(7000), w0: p(7001), w1: p(7002), w2: p(7003) }, spares: { s0: p(7004) } });
const hello = (over: Record<string, unknown> = {}) => ({
  kind: 'hello', enclave: 'e0', feeds: true, topology: 'single', protocol: 'lean', workers: 3, session: '0'.repeat(32),
  role: 0, roster: { w0: 'w0', w1: 'w1', w2: 'w2' }, ...over,
});

describe('worker: the hello names its role and the roster', () => {
  it('accepts a worker in its own role and a spare in a replaced one', () => {
    assert.equal(parseHello(hello(), 'e0', config, 'w0').role, 0);
    const h = parseHello(hello({ role: 1, roster: { w0: 'w0', w1: 's0', w2: 'w2' } }), 'e0', config, 's0');
    assert.equal(h.roster.w1, 's0');
    assert.equal(parseHello(hello({ workers: 2, roster: { w0: 's0', w1: 'w1' } }), 'e0', config, 's0').role, 0);
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['a role this process does not play', { role: 1 }, 'w0'],
    ['a roster without this process', { roster: { w0: 's0', w1: 'w1', w2: 'w2' } }, 'w0'],
    ['an unknown party in the roster', { roster: { w0: 'w0', w1: 's9', w2: 'w2' } }, 'w0'],
    ['an enclave in the roster', { roster: { w0: 'w0', w1: 'e0', w2: 'w2' } }, 'w0'],
    ['one party in two roles', { roster: { w0: 'w0', w1: 'w0', w2: 'w2' } }, 'w0'],
    ['a roster missing w2 online', { roster: { w0: 'w0', w1: 'w1' } }, 'w0'],
    ['an extra roster entry', { roster: { w0: 'w0', w1: 'w1', w2: 'w2', w3: 's0' } }, 'w0'],
    ['role 2 offline', { workers: 2, role: 2, roster: { w0: 'w0', w1: 'w1' } }, 'w2'],
    ['a missing roster', { roster: undefined }, 'w0'],
    ['a non-string roster entry', { roster: { w0: 'w0', w1: 1, w2: 'w2' } }, 'w0'],
  ];
  for (const [what, over, self] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parseHello(hello(over), 'e0', config, self), /enclave e0 sent a malformed hello/);
    });
  }
});
