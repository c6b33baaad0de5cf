/** The cluster config's spare workers (docs/net.md, "Spare workers"): validated like parties. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterConfigError, parseClusterConfig, partyConfig, pinnedKeys, workerNames } from '../../src/net/cluster-config.js';
import { generateIdentity } from '../../src/net/identity.js';
import { parseWorkerParty } from '../../src/cli/commands/worker.js';

const p = (port: number) => ({ host: '127.0.0.1', port, publicKey: generateIdentity('x').publicKeyText });

function config(over: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c: Record<string, any> = { version: 1, parties: { e0: p(7000), w0: p(7001), w1: p(7002), w2: p(7003) }, spares: { s0: p(7004), s1: p(7005) } };
  over(c);
  return c;
}

describe('cluster config: spares', () => {
  it('accepts spares: their entries, pinned keys and addresses are known like parties', () => {
    const c = parseClusterConfig(config((c) => (c.spares.s1.keyFile = 'keys/s1.key')), '/base');
    assert.deepEqual(Object.keys(c.spares), ['s0', 's1']);
    assert.equal(c.spares.s1?.keyFile, '/base/keys/s1.key');
    assert.equal(partyConfig(c, 's0').port, 7004);
    assert.deepEqual(Object.keys(pinnedKeys(c)).sort(), ['e0', 's0', 's1', 'w0', 'w1', 'w2']);
    assert.deepEqual(workerNames(c), ['w0', 'w1', 'w2', 's0', 's1']);
    assert.throws(() => partyConfig(c, 's2'), /no party "s2" \(have: e0, w0, w1, w2, s0, s1\)/);
  });

  it('without spares: an empty set', () => {
    const c = parseClusterConfig(config((c) => delete c.spares));
    assert.deepEqual(c.spares, {});
    assert.deepEqual(workerNames(c), ['w0', 'w1', 'w2']);
  });

  const bad: [string, (c: Record<string, any>) => void, RegExp][] = [
    ['spares that are not an object', (c) => (c.spares = ['s0']), /spares: expected an object/],
    ['a badly named spare', (c) => (c.spares.w3 = p(7010)), /spares\.w3: a spare's name is s0, s1/],
    ['a spare named with a leading zero', (c) => (c.spares.s01 = p(7010)), /spares\.s01: a spare's name/],
    ['a spare without a port', (c) => delete c.spares.s0.port, /spares\.s0\.port: expected an integer/],
    ['a spare with an unknown field', (c) => (c.spares.s0.role = 'w0'), /spares\.s0: unknown field "role"/],
    ['a malformed spare key', (c) => (c.spares.s0.publicKey = 'ed25519:abc'), /spares\.s0\.publicKey: .*not 32 bytes/],
    ['a spare with a worker\'s key', (c) => (c.spares.s1.publicKey = c.parties.w1.publicKey), /spares\.s1\.publicKey: same key as parties\.w1/],
    ['two spares with one key', (c) => (c.spares.s1.publicKey = c.spares.s0.publicKey), /spares\.s1\.publicKey: same key as spares\.s0/],
    ['a spare on a worker\'s port', (c) => (c.spares.s0.port = 7002), /spares\.s0\.port: 127\.0\.0\.1:7002 is also the address of parties\.w1/],
    ['two spares on one port', (c) => (c.spares.s1.port = 7004), /spares\.s1\.port: .* is also the address of spares\.s0/],
  ];
  for (const [what, mutate, msg] of bad) {
    it(`rejects ${what} with a clear error`, () => {
      assert.throws(() => parseClusterConfig(config(mutate), '/', 'c.json'), (e: Error) => e instanceof ClusterConfigError && msg.test(e.message) && e.message.startsWith('c.json: '));
    });
  }

  it('goten worker --party takes a spare name', () => {
    assert.equal(parseWorkerParty('s0'), 's0');
    assert.equal(parseWorkerParty('w2'), 2);
    assert.throws(() => parseWorkerParty('s'), /or a spare s0, s1/);
    assert.throws(() => parseWorkerParty('e0'), /--party must be/);
  });
});
