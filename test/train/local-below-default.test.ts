/**
 * Every secure command line offers `--local-below` with the one default, DEFAULT_LOCAL_BELOW (2^24
 * multiply-adds): train, demo, predict, serve and bench step. What the default does to a run is tested in
 * cli-train.test.ts (a test-sized model stays in the enclave) and roles/cli-secure.test.ts (the demo's
 * workers still compute).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_LOCAL_BELOW } from '../../src/protocol/local-attempt.js';
import { goten } from '../cli.js';

it('train, demo, predict, serve and bench step default --local-below to 2^24', () => {
  assert.equal(DEFAULT_LOCAL_BELOW, 2 ** 24);
  for (const cmd of [['train'], ['demo'], ['predict'], ['serve'], ['bench', 'step']]) {
    const r = goten([...cmd, '--help']);
    assert.equal(r.status, 0, r.stderr);
    const help = r.stdout.replace(/\s+/g, ' ');
    const at = help.indexOf('--local-below <n>');
    assert.ok(at >= 0, `${cmd.join(' ')} offers --local-below`);
    const next = help.indexOf(' -', at + 1); // the next option's flags
    const option = help.slice(at, next < 0 ? undefined : next);
    const dflt = /\(default: "?(\d+)"?\)/.exec(option);
    assert.equal(dflt?.[1], String(DEFAULT_LOCAL_BELOW), `${cmd.join(' ')}: its default`);
  }
});
