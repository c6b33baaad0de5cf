/** `--protocol`: which secure protocol (docs/protocol.md); a commander option, so it stays in the CLI. */
import { Option } from 'commander';
import { DEFAULT_PROTOCOL, PROTOCOLS } from '../protocol/variant.js';
import { DEFAULT_VERIFY, VERIFY_MODES } from '../protocol/product-verifier.js';

export function protocolOption(): Option {
  return new Option('--protocol <p>', "secure mode: lean (each operand leaves the enclave once, packed) or goten (the paper's, for comparison)")
    .choices([...PROTOCOLS])
    .default(DEFAULT_PROTOCOL);
}

/** `--verify`: check every outsourced product in the enclave (docs/protocol.md, Verification). */
export function verifyOption(): Option {
  return new Option('--verify <m>', 'secure mode: check outsourced products in the enclave (Freivalds): all, sample (one op in 4) or off')
    .choices([...VERIFY_MODES])
    .default(DEFAULT_VERIFY);
}
