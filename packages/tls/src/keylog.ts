import { toHex } from './bytes.js';

/**
 * NSS key log labels for TLS 1.3 (the SSLKEYLOGFILE format read by Wireshark and tshark). The QUIC dissector uses
 * the same labels: its packet keys come from these traffic secrets.
 */
export type KeyLogLabel =
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EARLY_EXPORTER_SECRET'
  | 'EXPORTER_SECRET';

/** One key log line: `<label> <client random hex> <secret hex>` (no trailing newline). */
export function formatKeyLogLine(label: KeyLogLabel, clientRandom: Uint8Array, secret: Uint8Array): string {
  return `${label} ${toHex(clientRandom)} ${toHex(secret)}`;
}
