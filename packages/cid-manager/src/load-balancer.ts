/**
 * Load-balancer-routable connection IDs: the plaintext (keyless) form of QUIC-LB, draft-ietf-quic-load-balancers-21.
 *
 * CID layout (draft-21 §5.2 "CID format", §3.4 "Format"):
 *
 *     First Octet { Config Rotation (3), CID Len or Random Bits (5) }
 *     Server ID (8..)       — at least 1 octet (§5.3)
 *     Nonce (32..)          — at least 4 octets, Server ID + Nonce <= 19 octets (§5.3)
 *
 * Without a key the server ID is in clear, so an external load balancer extracts it from the octets following the
 * first one (§5.5 "Load Balancer Actions") and routes every packet of the connection to the same server, whatever
 * the client's address — which is what keeps migration and NAT rebinding working behind a CID-aware load balancer.
 *
 * Privacy (draft-21 §9 "Security Considerations"): plaintext server IDs let an observer tell that two CIDs belong to
 * the same server. The draft says keyless servers SHOULD only use such CIDs for the handshake and SHOULD NOT send
 * more in NEW_CONNECTION_ID frames (except once after a config rotation); a core that follows this gives the
 * LocalCidIssuer a local limit of 1. The encrypted (keyed) forms of the draft are not implemented here.
 */
import { CidConfigError } from './errors.js';
import type { CidGenerator } from './generator.js';
import { MAX_CID_LENGTH } from './generator.js';
import { defaultRandom, type RandomSource } from './random.js';

/** The config rotation codepoint sits in the three most significant bits of the first octet (draft-21 §3.1). */
export const CONFIG_ROTATION_SHIFT = 5;
/** Low five bits of the first octet: the self-described length or random bits (draft-21 §3.3). */
export const FIRST_OCTET_LENGTH_MASK = 0x1f;
/** Codepoint 0b111: the server has no configuration; such CIDs are always unroutable (draft-21 §3.1, §3.2). */
export const UNROUTABLE_CONFIG_ID = 0b111;
/** Largest codepoint a configuration may use (0b111 is reserved, draft-21 §3.1). */
export const MAX_CONFIG_ID = 6;
/** Server IDs are at least one octet (draft-21 §5.1, §5.3). */
export const MIN_SERVER_ID_LENGTH = 1;
/** Nonces are at least four octets (draft-21 §5.3). */
export const MIN_NONCE_LENGTH = 4;
/** Server ID plus nonce fit a 20-byte v1 CID after the first octet (draft-21 §5.3). */
export const MAX_PLAINTEXT_BLOCK_LENGTH = MAX_CID_LENGTH - 1;
/** Unroutable (0b111) CIDs SHOULD be at least 8 bytes: 7 random bytes after the first octet (draft-21 §3.2). */
export const MIN_FAILOVER_CID_LENGTH = 8;

/** What a load balancer and a server agree on for one config rotation codepoint (draft-21 §5.3). */
export interface LoadBalancerConfig {
  /** Config rotation codepoint, 0..6 (draft-21 §3.1). */
  configId: number;
  /** Server ID length in octets, >= 1. */
  serverIdLength: number;
  /** Nonce length in octets, >= 4; serverIdLength + nonceLength <= 19. */
  nonceLength: number;
  /**
   * Whether servers write the CID length minus one into the low five bits of the first octet (draft-21 §3.3, used by
   * hardware crypto offload). Default true. A decoder uses it for the optional consistency checks of §4.1.
   */
  selfDescribingLength?: boolean;
}

/** A server's configuration: the shared parameters plus its own server ID. */
export interface LoadBalancerServerConfig {
  configId: number;
  /** This server's ID; its length is the configuration's server ID length. */
  serverId: Uint8Array;
  nonceLength: number;
  selfDescribingLength?: boolean;
}

function checkConfigId(configId: number): void {
  if (!Number.isInteger(configId) || configId < 0 || configId > MAX_CONFIG_ID) {
    throw new CidConfigError(
      `config rotation codepoint must be 0..${MAX_CONFIG_ID} (0b111 is reserved for unroutable CIDs), got ${configId}`,
    );
  }
}

function checkLengths(serverIdLength: number, nonceLength: number): void {
  if (!Number.isInteger(serverIdLength) || serverIdLength < MIN_SERVER_ID_LENGTH) {
    throw new CidConfigError(`server ID length must be at least ${MIN_SERVER_ID_LENGTH} octet, got ${serverIdLength}`);
  }
  if (!Number.isInteger(nonceLength) || nonceLength < MIN_NONCE_LENGTH) {
    throw new CidConfigError(`nonce length must be at least ${MIN_NONCE_LENGTH} octets, got ${nonceLength}`);
  }
  if (serverIdLength + nonceLength > MAX_PLAINTEXT_BLOCK_LENGTH) {
    throw new CidConfigError(
      `server ID (${serverIdLength}) + nonce (${nonceLength}) must be at most ${MAX_PLAINTEXT_BLOCK_LENGTH} octets`,
    );
  }
}

/** The two fields of the first octet (draft-21 §3.4). */
export interface FirstOctet {
  configId: number;
  /** Self-described length (CID length minus one) or random bits. */
  lengthBits: number;
}

export function decodeFirstOctet(octet: number): FirstOctet {
  return { configId: octet >>> CONFIG_ROTATION_SHIFT, lengthBits: octet & FIRST_OCTET_LENGTH_MASK };
}

export function encodeFirstOctet(configId: number, lengthBits: number): number {
  return ((configId << CONFIG_ROTATION_SHIFT) | (lengthBits & FIRST_OCTET_LENGTH_MASK)) & 0xff;
}

/**
 * Generates plaintext QUIC-LB CIDs for one server (draft-21 §5.4 "Server Actions"): first octet, server ID, then a
 * random nonce — random because without a key the nonce must have no observable relationship to earlier CIDs.
 * Every CID has the same length, 1 + server ID + nonce.
 */
export class LoadBalancerCidGenerator implements CidGenerator {
  readonly length: number;
  readonly configId: number;
  private readonly serverId: Uint8Array;
  private readonly selfDescribingLength: boolean;
  private readonly random: RandomSource;

  constructor(config: LoadBalancerServerConfig, random: RandomSource = defaultRandom) {
    checkConfigId(config.configId);
    checkLengths(config.serverId.length, config.nonceLength);
    this.configId = config.configId;
    this.serverId = config.serverId.slice();
    this.selfDescribingLength = config.selfDescribingLength ?? true;
    this.length = 1 + this.serverId.length + config.nonceLength;
    this.random = random;
  }

  generate(): Uint8Array {
    const cid = new Uint8Array(this.length);
    const noise = this.random(this.length - this.serverId.length);
    // Without self-description the five low bits must not relate to earlier CIDs (draft-21 §3.3): random ones.
    const lengthBits = this.selfDescribingLength ? this.length - 1 : noise[0]!;
    cid[0] = encodeFirstOctet(this.configId, lengthBits);
    cid.set(this.serverId, 1);
    cid.set(noise.subarray(1), 1 + this.serverId.length);
    return cid;
  }
}

/**
 * CIDs of a server that has no QUIC-LB configuration (draft-21 §3.2 "Configuration Failover"): codepoint 0b111, which
 * load balancers never decode, and a self-described length (a MUST there). Such a server SHOULD give the client exactly
 * one CID (LocalCidIssuer with a local limit of 1) and SHOULD send disable_active_migration.
 */
export class FailoverCidGenerator implements CidGenerator {
  readonly length: number;
  private readonly random: RandomSource;

  constructor(length = MIN_FAILOVER_CID_LENGTH, random: RandomSource = defaultRandom) {
    if (!Number.isInteger(length) || length < MIN_FAILOVER_CID_LENGTH || length > MAX_CID_LENGTH) {
      throw new CidConfigError(`failover CID length must be ${MIN_FAILOVER_CID_LENGTH}..${MAX_CID_LENGTH}, got ${length}`);
    }
    this.length = length;
    this.random = random;
  }

  generate(): Uint8Array {
    const cid = this.random(this.length).slice();
    cid[0] = encodeFirstOctet(UNROUTABLE_CONFIG_ID, this.length - 1);
    return cid;
  }
}

/** A routable CID's configuration and server ID. `serverId` is a view into the decoded bytes (no copy). */
export interface ExtractedServerId {
  configId: number;
  serverId: Uint8Array;
}

/**
 * The load balancer's side (draft-21 §5.5): finds the server ID in a CID or in a datagram's DCID. Returns undefined
 * for unroutable CIDs (§4.1): codepoint 0b111 or one without a configuration, a CID too short for its configuration,
 * and — when the configuration self-describes lengths — a self-described length that contradicts the CID's length.
 * Whether the server ID belongs to an active server is the caller's lookup; unroutable packets go to its fallback
 * algorithm (§4.2, §4.3).
 */
export class LoadBalancerDecoder {
  /** Indexed by codepoint; at most one configuration each. */
  private readonly configs: (Required<LoadBalancerConfig> | undefined)[] = new Array(UNROUTABLE_CONFIG_ID).fill(undefined);

  constructor(configs: readonly LoadBalancerConfig[]) {
    for (const c of configs) {
      checkConfigId(c.configId);
      checkLengths(c.serverIdLength, c.nonceLength);
      if (this.configs[c.configId] !== undefined) {
        throw new CidConfigError(`two configurations for config rotation codepoint ${c.configId}`);
      }
      this.configs[c.configId] = { selfDescribingLength: true, ...c };
    }
  }

  /** Server ID of a CID whose full length is known (a long header's DCID, a SCID, a CID from a table). */
  decodeCid(cid: Uint8Array): ExtractedServerId | undefined {
    return this.decodeAt(cid, 0, cid.length);
  }

  /**
   * Server ID of the DCID of the first packet in a datagram. Long headers carry the DCID length (RFC 8999 §5.1);
   * for short headers the configuration's length is assumed (RFC 8999 §5.2: the DCID starts at the second octet).
   */
  decodeDatagram(datagram: Uint8Array): ExtractedServerId | undefined {
    const first = datagram[0];
    if (first === undefined) return undefined;
    if ((first & 0x80) !== 0) {
      const length = datagram[5];
      if (length === undefined || datagram.length < 6 + length) return undefined;
      return this.decodeAt(datagram, 6, length);
    }
    return this.decodeAt(datagram, 1, -1);
  }

  /** `length` -1 = unknown (short header): only the bytes the configuration needs must be present. */
  private decodeAt(bytes: Uint8Array, offset: number, length: number): ExtractedServerId | undefined {
    const octet = bytes[offset];
    if (octet === undefined || length === 0) return undefined;
    const configId = octet >>> CONFIG_ROTATION_SHIFT;
    const config = this.configs[configId];
    if (config === undefined) return undefined; // includes 0b111, which never has one
    const needed = 1 + config.serverIdLength + config.nonceLength;
    const available = length < 0 ? bytes.length - offset : length;
    if (available < needed) return undefined;
    if (config.selfDescribingLength) {
      const described = (octet & FIRST_OCTET_LENGTH_MASK) + 1;
      if (described < needed || (length >= 0 && described !== length)) return undefined;
    }
    return { configId, serverId: bytes.subarray(offset + 1, offset + 1 + config.serverIdLength) };
  }
}

/** One-off form of {@link LoadBalancerDecoder.decodeCid}; build a decoder once when routing many packets. */
export function extractServerId(cid: Uint8Array, configs: readonly LoadBalancerConfig[]): ExtractedServerId | undefined {
  return new LoadBalancerDecoder(configs).decodeCid(cid);
}
