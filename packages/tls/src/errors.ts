/** RFC 8446 §6 AlertDescription values this stack sends or reports. */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;
export type AlertDescription = (typeof AlertDescription)[keyof typeof AlertDescription];

const ALERT_NAMES = new Map<number, string>(Object.entries(AlertDescription).map(([k, v]) => [v, k]));

export function alertName(alert: number): string {
  return ALERT_NAMES.get(alert) ?? `alert_${alert}`;
}

/** RFC 9001 §4.8: a TLS alert becomes the QUIC transport error CRYPTO_ERROR = 0x100 + alert. */
export const CRYPTO_ERROR_BASE = 0x100;

/**
 * A fatal handshake failure caused by the peer or by what it sent. `alert` is what a TLS stack would send;
 * `quicErrorCode` is what QUIC puts in CONNECTION_CLOSE. `remote` is true when the peer reported the alert.
 */
export class TlsAlertError extends Error {
  override readonly name = 'TlsAlertError';
  readonly alert: AlertDescription;
  readonly remote: boolean;

  constructor(alert: AlertDescription, message: string, options?: { remote?: boolean; cause?: unknown }) {
    super(`${alertName(alert)}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.alert = alert;
    this.remote = options?.remote ?? false;
  }

  get quicErrorCode(): number {
    return CRYPTO_ERROR_BASE + this.alert;
  }
}

/** A mistake by the programmer using this package (bad configuration, wrong call order): never caused by the peer. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

export function alert(description: AlertDescription, message: string, cause?: unknown): TlsAlertError {
  return new TlsAlertError(description, message, cause === undefined ? undefined : { cause });
}
