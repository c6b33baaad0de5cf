/** The secure mode's commander options (`--protocol`, `--op-timeout`): commander types stay in the CLI. */
import { Option } from 'commander';
import { intOption } from '../flags/numbers.js';
import { DEFAULT_PROTOCOL, PROTOCOLS } from '../protocol/variant.js';
import { DEFAULT_LOCAL_BELOW } from '../protocol/local-attempt.js';
import { DEFAULT_OP_TIMEOUT_MS } from '../roles/session.js';
import { DEFAULT_RECONNECT_TIMEOUT_MS } from '../roles/reconnect.js';
import { DEFAULT_VERIFY, VERIFY_MODES } from '../protocol/product-verifier.js';

/** `--protocol`: which secure protocol (docs/protocol.md). */
export function protocolOption(): Option {
  return new Option('--protocol <p>', "secure mode: lean (each operand leaves the enclave once, packed) or goten (the paper's, for comparison)")
    .choices([...PROTOCOLS])
    .default(DEFAULT_PROTOCOL);
}

/** A timeout flag's parser: a number of seconds up to a day, > 0 (or ≥ 0 where 0 turns the feature off). */
function seconds(name: string, zeroAllowed: boolean): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (zeroAllowed ? n < 0 : n <= 0) || n > 86_400) {
      throw new Error(`${name} must be a number of seconds, ${zeroAllowed ? '≥' : '>'} 0 and ≤ 86400, got '${v}'`);
    }
    return n;
  };
}

/** `--op-timeout`: seconds to wait for a worker's answer (a stalled or dead worker ends the run with an error naming it and the op). */
export function opTimeoutOption(): Option {
  return new Option('--op-timeout <seconds>', "secure mode: how long to wait for a worker's answer to one op before the run stops with an error naming the worker and the op")
    .argParser(seconds('--op-timeout', false))
    .default(DEFAULT_OP_TIMEOUT_MS / 1000);
}

/** `--reconnect-timeout`: seconds to wait for a lost worker to come back (0: no recovery). */
export function reconnectTimeoutOption(): Option {
  return new Option(
    '--reconnect-timeout <seconds>',
    'secure mode: how long to wait, retrying with back-off, for a lost (dead, stalled or unreachable) worker to come back; ' +
      'then a new session with every worker re-runs the op with fresh masks, bit-identically; a worker that does not come back is ' +
      'replaced by a spare if the cluster config lists one (0: no recovery and no spares, the run stops)',
  )
    .argParser(seconds('--reconnect-timeout', true))
    .default(DEFAULT_RECONNECT_TIMEOUT_MS / 1000);
}

/** `--local-below`: ops smaller than this many multiply-adds are computed in the enclave (protocol/local-attempt.ts). */
export function localBelowOption(): Option {
  return new Option(
    '--local-below <n>',
    'secure mode: compute ops smaller than n multiply-adds (√(a·b·c) of the product) in the enclave instead of outsourcing them, ' +
      'when the protocol costs the enclave more than the product (results unchanged: exact either way; 0: outsource every op)',
  )
    .argParser(intOption('--local-below', 0))
    .default(DEFAULT_LOCAL_BELOW);
}

/** `--verify`: check every outsourced product in the enclave (docs/protocol.md, Verification). */
export function verifyOption(): Option {
  return new Option('--verify <m>', 'secure mode: check outsourced products in the enclave (Freivalds): all, sample (one op in 4) or off; ' +
    'a failed check stops the run naming the worker, or, if the cluster config lists a spare, re-runs the op with the spare in its place')
    .choices([...VERIFY_MODES])
    .default(DEFAULT_VERIFY);
}
