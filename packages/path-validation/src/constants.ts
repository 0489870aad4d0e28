/** Protocol constants, each with the section that fixes it. All durations are milliseconds. */

/** RFC 9000 §14.1: smallest allowed maximum datagram size; also DPLPMTUD's BASE_PLPMTU and MIN_PLPMTU (§14.3). */
export const MIN_MAX_DATAGRAM_SIZE = 1200;

/** RFC 9000 §8, §8.1: before address validation, at most three times the bytes received may be sent. */
export const AMPLIFICATION_FACTOR = 3;

/** RFC 9000 §19.17, §19.18: PATH_CHALLENGE / PATH_RESPONSE carry exactly 8 bytes of data. */
export const PATH_CHALLENGE_DATA_LENGTH = 8;

/** RFC 9002 §6.2.2: RTT assumed before any sample (kInitialRtt). */
export const K_INITIAL_RTT = 333;

/** RFC 9002 §6.1.2: timer granularity (kGranularity). */
export const K_GRANULARITY = 1;

/** RFC 9000 §8.2.4: validation is abandoned after three times the larger of the current and the initial PTO. */
export const VALIDATION_TIMEOUT_PTOS = 3;

/** RFC 9000 §18.2: max_ack_delay default when the peer does not send the transport parameter. */
export const DEFAULT_MAX_ACK_DELAY = 25;

/** RFC 9000 §18.2: largest UDP payload there is (65535 minus the 8-byte UDP header); max_udp_payload_size default. */
export const MAX_UDP_PAYLOAD = 65527;

/**
 * Default DPLPMTUD search ceiling: a 1500-byte Ethernet MTU minus the IPv6 (40) and UDP (8) headers, so the same
 * value is safe for IPv4 (whose headers are 20 bytes shorter). Configurable up to {@link MAX_UDP_PAYLOAD}.
 */
export const DEFAULT_MAX_UDP_PAYLOAD = 1452;

/** RFC 8899 §5.1.2: MAX_PROBES, consecutive unacknowledged probes of one size before the size counts as failed. */
export const MAX_PROBES = 3;

/** RFC 8899 §5.1.1: PMTU_RAISE_TIMER, how long SEARCH_COMPLETE lasts before probing for a larger PMTU again. */
export const PMTU_RAISE_TIMER = 600_000;

/** RFC 8899 §5.1.1: PROBE_TIMER MUST NOT be smaller than 1 s. */
export const MIN_PROBE_TIMER = 1_000;

/**
 * RFC 8899 §5.1.1: PROBE_TIMER SHOULD be larger than 15 s. In QUIC it is only a backstop: loss detection (RFC 9002)
 * normally reports a lost probe long before, through `onProbeLost`.
 */
export const DEFAULT_PROBE_TIMER = 16_000;

/**
 * Smallest datagram that can carry a PATH_CHALLENGE or PATH_RESPONSE in a short-header packet whatever the
 * connection ID and packet number lengths: 1 (first byte) + 20 (longest CID, RFC 9000 §17.3) + 4 (longest packet
 * number) + 9 (frame type and 8 data bytes, §19.17) + 16 (AEAD tag, RFC 9001 §5.3). Below this amplification
 * allowance nothing is sent and the frame waits for more bytes from the peer.
 */
export const MIN_PROBE_DATAGRAM = 50;
