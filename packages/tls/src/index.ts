export * from './codes.js';
export * from './errors.js';
export type {
  AeadName,
  AntiReplay,
  CryptoLevel,
  SecretLevel,
  SessionTicket,
  TlsClientConfig,
  TlsCommonConfig,
  TlsEvent,
  TlsServerConfig,
  TrafficSecret,
} from './config.js';
export { TlsClient } from './client.js';
export { TlsServer } from './server.js';
export {
  CERTIFICATE_SIGNATURE_SCHEMES,
  DEFAULT_CIPHER_SUITES,
  DEFAULT_GROUPS,
  DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE,
  DEFAULT_SIGNATURE_SCHEMES,
  QuicProfileError,
  TlsEndpoint,
} from './endpoint.js';
export {
  certificateVerifyInput,
  chooseSignatureScheme,
  loadCertificateIdentity,
  signCertificateVerify,
  spkiPin,
  verifyCertificateChain,
  verifyCertificateVerify,
  type CertificateChainResult,
  type CertificateIdentity,
  type CertificateVerifierOptions,
  type PeerCertificateInfo,
} from './certificates.js';
export {
  expectedKeyShareLength,
  nobleKeyExchange,
  nodeKeyExchange,
  type ImportingKeyExchangeProvider,
  type KeyExchangeProvider,
  type KeyShare,
} from './key-exchange.js';
export {
  KeySchedule,
  PendingTranscript,
  Transcript,
  deriveSecret,
  digest,
  exportKeyingMaterial,
  finishedKey,
  finishedVerifyData,
  hashLengthOf,
  hkdfExpandLabel,
  hkdfExtract,
  hmac,
  nextTrafficSecret,
  recordKeys,
  resumptionPsk,
  suiteInfo,
  type HashName,
  type SuiteInfo,
} from './key-schedule.js';
export { formatKeyLogLine, type KeyLogLabel } from './keylog.js';
export {
  MAX_TICKET_LIFETIME,
  SingleUseAntiReplay,
  decodeSessionTicket,
  encodeSessionTicket,
} from './session-ticket.js';
