export { createUdpRelay } from './relay.js';
export type {
  Direction,
  HostPort,
  RebindOptions,
  RelayClient,
  RelayStats,
  SocketAddress,
  UdpRelay,
  UdpRelayOptions,
} from './relay.js';
export { DEFAULT_IMPAIRMENTS, Link, realScheduler, validateImpairments } from './link.js';
export type { DirectionStats, Impairments, Scheduler } from './link.js';
export { Mulberry32, deriveSeed } from './random.js';
export { parseEndpoint, parseRate, parseSize } from './parse.js';
export type { Endpoint } from './parse.js';
