export * from './ack-tracker.js';
export * from './reassembly.js';
export * from './flow-control.js';
export * from './address-token.js';
export * from './qlog.js';
export * from './sent-items.js';
export * from './streams/index.js';
export {
  Connection,
  type ConnectionEvent,
  type ConnectionState,
  type ConnectionStats,
  type ClientConnectionInit,
  type ServerConnectionInit,
  type ConnectionInit,
  type ConnectionPath,
} from './connection/connection.js';
export { bytesToIp, ipToBytes, type PreferredAddresses } from './connection/addresses.js';
export * from './connection/types.js';
export { Endpoint, type ConnectOptions, type EndpointEvent, type EndpointOptions, type EndpointServerOptions } from './endpoint.js';
export type { MigrationEvent, MigrationResult, PathAddress, PathStatus } from '@pathquic/path-validation';
