// @pathquic/transport-mptcp: Linux Multipath TCP (RFC 8684) for Node.js behind node:net's own API.
export { connect, createConnection, MptcpSocket } from './socket.js';
export type { MptcpConnectOptions, MptcpSocketOptions } from './socket.js';
export { createServer, MptcpServer } from './server.js';
export type { MptcpAcceptedSocket, MptcpServerOptions } from './server.js';
export { getMptcpInfo, getTcpInfo, MPTCP_INFO_FLAG_FALLBACK, MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED } from './info.js';
export type { GetMptcpInfoOptions, MptcpInfo, MptcpSubflowInfo, SubflowAddress, SubflowTcpInfo } from './info.js';
export { explainFallback, MptcpUnavailableError } from './errors.js';
export type { MptcpFallbackReason, MptcpMode, MptcpState } from './errors.js';
export { formatMptcpUrl, parseMptcpUrl } from './url.js';
export type { MptcpEndpoint } from './url.js';
export { mptcpAvailability } from './availability.js';
export type { MptcpAvailability } from './availability.js';
export { IPPROTO_MPTCP, SOL_MPTCP } from './native.js';
