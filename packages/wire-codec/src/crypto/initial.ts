/**
 * Initial packet keys, derived from the client's first Destination Connection ID (RFC 9001 §5.2; RFC 9369 §3.3.1).
 * Initial packets always use AEAD_AES_128_GCM with AES header protection, whatever suite TLS later negotiates.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { QuicEncodeError } from '../errors.js';
import { QUIC_V1, QUIC_V2 } from '../version.js';
import { EMPTY_HKDF_CONTEXT, hkdfExpandLabel } from './hkdf-label.js';
import { derivePacketKeys, type PacketKeys } from './keys.js';
import { nodeCryptoProvider } from './node.js';
import type { AeadAlgorithm, CryptoProvider, HashAlgorithm } from './provider.js';

const SALT_V1 = hexToBytes('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'); // RFC 9001 §5.2
const SALT_V2 = hexToBytes('0dede3def700a6db819381be6e269dcbf9bd2ed9'); // RFC 9369 §3.3.1

/** RFC 9001 §5.2: Initial packets use AEAD_AES_128_GCM and its hash. */
export const INITIAL_AEAD: AeadAlgorithm = 'aes-128-gcm';
const INITIAL_HASH: HashAlgorithm = 'sha256';
const INITIAL_SECRET_LENGTH = 32; // SHA-256 output (RFC 9001 §5.2)

function saltFor(version: number): Uint8Array {
  if (version === QUIC_V1) return SALT_V1;
  if (version === QUIC_V2) return SALT_V2;
  throw new QuicEncodeError(`no Initial salt for QUIC version 0x${version.toString(16)}`);
}

/** A copy of the Initial salt of `version`; unsupported versions are a programmer error. */
export function initialSalt(version: number): Uint8Array {
  return saltFor(version).slice();
}

export interface InitialSecrets {
  initialSecret: Uint8Array;
  clientSecret: Uint8Array;
  serverSecret: Uint8Array;
}

/**
 * initial_secret = HKDF-Extract(salt, client_dst_connection_id);
 * client/server_initial_secret = HKDF-Expand-Label(initial_secret, "client in"/"server in", "", 32)
 * (RFC 9001 §5.2; the labels are the same in v2, RFC 9369 §3.3.2).
 */
export function deriveInitialSecrets(
  dcid: Uint8Array,
  version: number,
  provider: CryptoProvider = nodeCryptoProvider,
): InitialSecrets {
  const initialSecret = provider.hkdfExtract(INITIAL_HASH, saltFor(version), dcid);
  return {
    initialSecret,
    clientSecret: hkdfExpandLabel(provider, INITIAL_HASH, initialSecret, 'client in', EMPTY_HKDF_CONTEXT, INITIAL_SECRET_LENGTH),
    serverSecret: hkdfExpandLabel(provider, INITIAL_HASH, initialSecret, 'server in', EMPTY_HKDF_CONTEXT, INITIAL_SECRET_LENGTH),
  };
}

/**
 * Both directions' Initial packet keys for the connection whose client chose `dcid` as its first Destination
 * Connection ID (after a Retry: the Retry's Source Connection ID, RFC 9001 §5.2).
 */
export function deriveInitialKeys(
  dcid: Uint8Array,
  version: number,
  provider: CryptoProvider = nodeCryptoProvider,
): { client: PacketKeys; server: PacketKeys } {
  const secrets = deriveInitialSecrets(dcid, version, provider);
  return {
    client: derivePacketKeys(provider, INITIAL_AEAD, secrets.clientSecret, version),
    server: derivePacketKeys(provider, INITIAL_AEAD, secrets.serverSecret, version),
  };
}
