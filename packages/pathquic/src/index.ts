/**
 * pathquic: the whole stack under one import. The transport API (connect, listen, streams, errors) is re-exported at
 * the top level; every package is also available as a namespace (`core`, `tls`, `wire`, ...) because some names
 * exist in several packages. No logic of its own.
 */
export * from '@pathquic/transport-dgram';
export * as core from '@pathquic/core';
export * as tls from '@pathquic/tls';
export * as wire from '@pathquic/wire-codec';
export * as h3 from '@pathquic/h3';
export * as cid from '@pathquic/cid-manager';
export * as paths from '@pathquic/path-validation';
export * as recovery from '@pathquic/cc-newreno-cubic';
export * as priority from '@pathquic/stream-priority';
export { Endpoint, Connection, QlogWriter, type TransportConfig } from '@pathquic/core';
export { fetchH3, serveH3, fileHandler, saveBody, readBody } from '@pathquic/h3';
export { loadCertificateIdentity } from '@pathquic/tls';
export { PRIORITY_DEFAULT, PRIORITY_HIGHEST, PRIORITY_LOWEST } from '@pathquic/stream-priority';
