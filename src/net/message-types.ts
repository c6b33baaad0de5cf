/**
 * Message type codes (the u16 `type` field of every frame) and their names.
 *
 * A decoder rejects any code that is not registered here (FrameError
 * 'UNKNOWN_TYPE'), so every message a party may send must be listed. Codes
 * 1–255 are reserved for src/net and the key schedule; protocol modules either
 * use the generic codes below (OpRequest, Shares, Result, …) or register their
 * own in 0x0100–0x7FFF with `defineMessageType` at module load time (the same
 * code on every party, obviously). Names are what the traffic counters report.
 */

/** Built-in message types. */
export const MsgType = {
  /** JSON {code, message}: the sender is closing the connection because of this error. */
  Error: 1,
  /** JSON {party, version}: sent by a TLS server after it accepted the client's pinned key. */
  Hello: 2,
  /** JSON, optional: graceful goodbye before close. */
  Bye: 3,
  Ping: 4,
  Pong: 5,
  /**
   * Empty, sent on an otherwise idle connection to show that the sender is alive; absorbed by the
   * receiving connection (never returned by recv), which restarts its idle timer (setIdleTimeout).
   */
  Keepalive: 6,
  /** Authenticated key exchange (src/protocol/handshake.ts). */
  HandshakeInit: 16,
  HandshakeResponse: 17,
  HandshakeFinish: 18,
  /** Responder's final key-confirmed acceptance of the handshake. */
  HandshakeAccept: 21,
  /** AES-256-GCM encrypted SeedBundle, enclave → worker (src/protocol/key-schedule.ts). */
  SeedBundle: 19,
  /** AES-256-GCM encrypted master secret, enclave e0 → e1 (replicated topology). */
  MasterSecret: 20,
  /** Generic JSON control traffic (configuration, start/stop, status). */
  Control: 32,
  /** Generic protocol traffic for linear ops (src/protocol). */
  OpRequest: 64,
  Shares: 65,
  Result: 66,
  MaskProduct: 67,
  Digest: 68,
  /** Generic data (e.g. sealed chunks, checkpoints, client uploads). */
  Data: 80,
  /** Generic test traffic. */
  Test: 255,
} as const;

export type MsgTypeName = keyof typeof MsgType;

const names = new Map<number, string>();
for (const [name, code] of Object.entries(MsgType)) names.set(code, name);

/**
 * Register an application message type (code 0x0100–0x7FFF). Registering the same
 * name/code pair twice is a no-op; a clash with a different name throws.
 */
export function defineMessageType(name: string, code: number): number {
  if (!Number.isInteger(code) || code < 0x100 || code > 0x7fff) {
    throw new RangeError(`message type code for "${name}" must be an integer in 0x0100..0x7FFF, got ${code}`);
  }
  const existing = names.get(code);
  if (existing !== undefined && existing !== name) {
    throw new Error(`message type code ${code} is already registered as "${existing}"`);
  }
  names.set(code, name);
  return code;
}

/** Whether a code is a known message type. */
export function isKnownMessageType(code: number): boolean {
  return names.has(code);
}

/** Name of a message type ("type#<code>" for unknown codes). */
export function messageTypeName(code: number): string {
  return names.get(code) ?? `type#${code}`;
}
