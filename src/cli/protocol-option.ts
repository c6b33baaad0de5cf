/** `--protocol`: which secure protocol (docs/protocol.md); a commander option, so it stays in the CLI. */
import { Option } from 'commander';
import { DEFAULT_PROTOCOL, PROTOCOLS } from '../protocol/variant.js';

export function protocolOption(): Option {
  return new Option('--protocol <p>', "secure mode: lean (each operand leaves the enclave once, packed) or goten (the paper's, for comparison)")
    .choices([...PROTOCOLS])
    .default(DEFAULT_PROTOCOL);
}
