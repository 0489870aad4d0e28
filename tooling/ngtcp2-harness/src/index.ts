export { HarnessError, freeUdpPort, findExecutable } from './proc.js';
export { makeFile, sha256File, deterministicBytes } from './files.js';
export type { MadeFile } from './files.js';
export { makeTestPki } from './pki.js';
export type { TestPki, TestPkiOptions } from './pki.js';
export {
  startGtlsServer,
  gtlsServerArgs,
  hasNgtcp2,
  gtlsServerPath,
  gtlsClientPath,
  GTLSSERVER_ENV,
  GTLSCLIENT_ENV,
} from './server.js';
export type { GtlsServer, GtlsServerOptions } from './server.js';
export { runGtlsClient, gtlsClientArgs, downloadName, GNUTLS_CIPHERS } from './client.js';
export type { GtlsClientOptions, GtlsClientResult, CipherSuiteName } from './client.js';
export { ClientLogParser, parseClientLog } from './client-log.js';
export type { ClientLog, EarlyDataOutcome, HttpResponseInfo } from './client-log.js';
export { captureUdp, decodeQuic, hasTshark, canCapture, summarizeTsharkFields } from './capture.js';
export type { Capture, CaptureOptions, CaptureStats, DecodeOptions, QuicDecode } from './capture.js';
