export { connect, type ConnectOptions } from './client.js';
export { listen, QuicServer, type ListenOptions } from './server.js';
export {
  QuicConnection,
  DEFAULT_READ_HIGH_WATER_MARK,
  type QuicCloseInfo,
  type QuicConnectionStats,
  type QuicDatagrams,
} from './connection.js';
export { QuicStream, type QuicBidirectionalStream, type QuicReceiveStream, type QuicSendStream } from './stream.js';
export { toDuplex, type WebStreamPair } from './duplex.js';
export {
  QuicConnectionClosedError,
  QuicHandshakeError,
  QuicMigrationError,
  QuicStreamError,
  type HandshakeFailureReason,
  type MigrationFailureReason,
} from './errors.js';
export type { MigrateOptions, QuicPath, QuicPathAddress, QuicPathChange } from './paths.js';
export { transportDiagnostics, type TransportDiagnostics } from './diagnostics.js';
export type { KeyLogOption } from './options.js';
export { encodeSessionTicket, decodeSessionTicket, type SessionTicket } from '@pathquic/tls';
