/**
 * src/net: frame codec, transports (tcp, tls, inproc), counters, identities and
 * the cluster config. See transport.ts for the contract and frame.ts for the
 * wire format.
 */
export * from './transport.js';
export * from './frame.js';
export { FrameDecoder, type DecoderOptions } from './decoder.js';
export { MsgType, defineMessageType, isKnownMessageType, messageTypeName, type MsgTypeName } from './message-types.js';
export { BufferPool, defaultPool, type PoolLease, type PoolStats, type ReceivePool } from './pool.js';
export { TrafficCounters, mergeSnapshots, type TrafficSnapshot, type TrafficStats, type DirectionStats } from './counters.js';
export { TcpTransport, tcpTransport } from './tcp.js';
export { TlsTransport, tlsTransport, type TlsTransportOptions } from './tls.js';
export { InprocTransport, InprocNetwork, inprocTransport, defaultInprocNetwork, type InprocMode } from './inproc.js';
export { StreamConnection, socketChannel, type ByteChannel } from './stream.js';
export * from './identity.js';
export * from './cluster-config.js';
export * from './cluster.js';
