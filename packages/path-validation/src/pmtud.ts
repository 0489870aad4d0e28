import { transportParameterError } from '@pathquic/wire-codec';
import { BlackHoleDetector } from './black-hole.js';
import {
  DEFAULT_MAX_UDP_PAYLOAD,
  DEFAULT_PROBE_TIMER,
  MAX_PROBES,
  MAX_UDP_PAYLOAD,
  MIN_MAX_DATAGRAM_SIZE,
  MIN_PROBE_TIMER,
  PMTU_RAISE_TIMER,
} from './constants.js';
import { PathConfigError, requireInteger, requirePositiveDuration, requireTime } from './errors.js';

/** RFC 8899 §5.2 states. */
export type PmtudState = 'disabled' | 'base' | 'searching' | 'search-complete' | 'error';

export interface PmtudOptions {
  /** Local MAX_PLPMTU in bytes of UDP payload (RFC 8899 §5.1.2): 1200..65527, default 1452. */
  maxUdpPayload?: number;
  /** The peer's max_udp_payload_size transport parameter (RFC 9000 §18.2), default 65527. */
  peerMaxUdpPayload?: number;
  /** PROBE_TIMER in ms (RFC 8899 §5.1.1): at least 1000, default 16000. A backstop behind loss detection. */
  probeTimer?: number;
  /** PMTU_RAISE_TIMER in ms (RFC 8899 §5.1.1), default 600000. */
  raiseTimer?: number;
  /** MAX_PROBES (RFC 8899 §5.1.2), default 3. */
  maxProbes?: number;
  /**
   * The search stops once the unexplored range is narrower than this many bytes: each further probe costs a round
   * trip for a gain below it (RFC 8899 §5.3.2 leaves the search algorithm open). Default 20.
   */
  searchGranularity?: number;
  /** Consecutive qualifying losses of large packets that mean a black hole (see BlackHoleDetector). Default 3. */
  blackHoleThreshold?: number;
  /** Multipath path ID (draft-ietf-quic-multipath-21); 0 is the single-path form. */
  pathId?: number;
}

/** A PMTU probe to send now: one ack-eliciting packet of PING + PADDING, exactly `size` bytes of UDP payload. */
export interface PmtuProbe {
  size: number;
  pathId: number;
}

export type PmtuChangeReason = 'probe-acked' | 'black-hole' | 'packet-too-big' | 'peer-limit';

export type PmtudEvent =
  | { type: 'mtu-changed'; pathId: number; size: number; previous: number; reason: PmtuChangeReason }
  | { type: 'search-complete'; pathId: number; size: number }
  /** ERROR state: the path cannot carry 1200 bytes; send only probes and CONNECTION_CLOSE on it (RFC 9000 §14.1). */
  | { type: 'path-unusable'; pathId: number }
  /** A 1200-byte probe got through again after `path-unusable`. */
  | { type: 'path-usable'; pathId: number };

const DEFAULT_SEARCH_GRANULARITY = 20;
const DEFAULT_BLACK_HOLE_THRESHOLD = 3;

/**
 * Datagram Packetization Layer PMTU Discovery (RFC 8899) for one path, in the QUIC form of RFC 9000 §14.3:
 * BASE_PLPMTU = MIN_PLPMTU = 1200, acknowledged probes (no CONFIRMATION_TIMER, §14.3.2), probes are PING + PADDING
 * (§14.4). The search probes the ceiling first (one probe on paths that carry it), then bisects; MAX_PROBES
 * unacknowledged probes of a size mark it as too large.
 *
 * For the core: start it once the handshake completes (RFC 9000 §14.3.1) or a new path is validated; send a probe
 * whenever `pollProbe` returns one (it still consumes congestion window, §14.4); report its fate with
 * `onProbeAcked` / `onProbeLost`, and a lost probe is NOT a congestion signal (RFC 9000 §14.4, RFC 8899 §3 item 7);
 * report ordinary packets with `onPacketAcked` / `onPacketLost` for black-hole detection; size datagrams by
 * `maxDatagramSize`.
 */
export class Pmtud {
  readonly pathId: number;
  readonly #localMax: number;
  readonly #probeTimer: number;
  readonly #raiseTimer: number;
  readonly #maxProbes: number;
  readonly #granularity: number;
  readonly #blackHole: BlackHoleDetector;
  readonly #events: PmtudEvent[] = [];
  #peerMax: number;
  #state: PmtudState = 'disabled';
  #plpmtu = MIN_MAX_DATAGRAM_SIZE;
  /** Largest size not yet known to fail (the search ceiling). */
  #high = MIN_MAX_DATAGRAM_SIZE;
  #ceilingTried = false;
  /** PROBED_SIZE while retrying after a loss (RFC 8899 §5.1.3). */
  #probedSize: number | undefined;
  /** PROBE_COUNT (RFC 8899 §5.1.3). */
  #probeCount = 0;
  #outstanding: { size: number; sentAt: number } | undefined;
  #nextProbeAt = 0;
  #raiseAt: number | undefined;

  constructor(options: PmtudOptions = {}) {
    this.pathId = requireInteger('pathId', options.pathId ?? 0, 0);
    this.#localMax = requireInteger(
      'maxUdpPayload',
      options.maxUdpPayload ?? DEFAULT_MAX_UDP_PAYLOAD,
      MIN_MAX_DATAGRAM_SIZE,
      MAX_UDP_PAYLOAD,
    );
    this.#peerMax = requireInteger(
      'peerMaxUdpPayload',
      options.peerMaxUdpPayload ?? MAX_UDP_PAYLOAD,
      MIN_MAX_DATAGRAM_SIZE,
      MAX_UDP_PAYLOAD,
    );
    this.#probeTimer = requirePositiveDuration('probeTimer', options.probeTimer ?? DEFAULT_PROBE_TIMER);
    // RFC 8899 §5.1.1: PROBE_TIMER MUST NOT be smaller than 1 second.
    if (this.#probeTimer < MIN_PROBE_TIMER) {
      throw new PathConfigError(`probeTimer must be at least ${MIN_PROBE_TIMER} ms (RFC 8899 §5.1.1)`);
    }
    this.#raiseTimer = requirePositiveDuration('raiseTimer', options.raiseTimer ?? PMTU_RAISE_TIMER);
    this.#maxProbes = requireInteger('maxProbes', options.maxProbes ?? MAX_PROBES, 1, 100);
    this.#granularity = requireInteger(
      'searchGranularity',
      options.searchGranularity ?? DEFAULT_SEARCH_GRANULARITY,
      1,
      MAX_UDP_PAYLOAD,
    );
    this.#blackHole = new BlackHoleDetector(
      requireInteger('blackHoleThreshold', options.blackHoleThreshold ?? DEFAULT_BLACK_HOLE_THRESHOLD, 1, 1000),
    );
  }

  get state(): PmtudState {
    return this.#state;
  }

  /** The largest UDP payload to send on this path now (the PLPMTU); 1200 until the search confirms more. */
  get maxDatagramSize(): number {
    return this.#plpmtu;
  }

  /** False in the ERROR state (RFC 9000 §14.1: stop sending except probes and CONNECTION_CLOSE). */
  get usable(): boolean {
    return this.#state !== 'error';
  }

  /** MAX_PLPMTU: the local maximum capped by the peer's max_udp_payload_size (RFC 9000 §18.2). */
  get searchLimit(): number {
    return Math.min(this.#localMax, this.#peerMax);
  }

  get probeInFlight(): number | undefined {
    return this.#outstanding?.size;
  }

  /**
   * Starts DPLPMTUD (RFC 9000 §14.3.1: once the handshake is complete). `baseConfirmed` (default true): 1200-byte
   * datagrams already crossed the path both ways (Initial packets, a full-size path validation), so the BASE state
   * is skipped; pass false to confirm 1200 with a probe first (RFC 8899 §5.2 BASE).
   */
  start(now: number, options: { baseConfirmed?: boolean } = {}): void {
    requireTime(now);
    if (this.#state !== 'disabled') return;
    if (options.baseConfirmed ?? true) this.#enterSearching(now);
    else this.#enterBase(now);
  }

  /** The peer's max_udp_payload_size transport parameter (below 1200 is invalid, RFC 9000 §18.2). */
  setPeerMaxUdpPayload(size: number): void {
    if (!Number.isSafeInteger(size) || size < MIN_MAX_DATAGRAM_SIZE) {
      throw transportParameterError(`max_udp_payload_size ${String(size)} is below ${MIN_MAX_DATAGRAM_SIZE}`);
    }
    this.#peerMax = Math.min(size, MAX_UDP_PAYLOAD);
    const limit = this.searchLimit;
    if (this.#high > limit) this.#high = limit;
    if (this.#plpmtu > limit) this.#lower(limit, 'peer-limit');
  }

  /** The probe to send now, or undefined. A result means it is sent: the PROBE_TIMER starts at `now`. */
  pollProbe(now: number): PmtuProbe | undefined {
    requireTime(now);
    if (this.#outstanding !== undefined || now < this.#nextProbeAt) return undefined;
    let size: number | undefined;
    if (this.#state === 'base' || this.#state === 'error') size = MIN_MAX_DATAGRAM_SIZE;
    else if (this.#state === 'searching') {
      size = this.#probedSize ?? this.#nextSearchSize();
      if (size === undefined) {
        this.#complete(now);
        return undefined;
      }
    } else return undefined;
    this.#probedSize = size;
    this.#outstanding = { size, sentAt: now };
    return { size, pathId: this.pathId };
  }

  /** A probe of `size` bytes was acknowledged: the path carries it (RFC 8899 §5.3.1). */
  onProbeAcked(size: number, now: number): void {
    requireTime(now);
    if (this.#state === 'disabled') return;
    if (this.#outstanding?.size === size) this.#outstanding = undefined;
    if (this.#state === 'base' || this.#state === 'error') {
      if (size < MIN_MAX_DATAGRAM_SIZE) return;
      const recovered = this.#state === 'error';
      this.#enterSearching(now);
      if (recovered) this.#events.push({ type: 'path-usable', pathId: this.pathId });
      return;
    }
    // A late acknowledgment still proves the size, as long as it is new and allowed.
    if (size <= this.#plpmtu || size > this.searchLimit) return;
    this.#raise(size);
    if (this.#state !== 'searching') return;
    this.#probedSize = undefined;
    this.#probeCount = 0;
    if (this.#nextSearchSize() === undefined) this.#complete(now);
  }

  /** Loss detection declared the probe of `size` lost. Not a congestion signal (RFC 9000 §14.4). */
  onProbeLost(size: number, now: number): void {
    requireTime(now);
    if (this.#outstanding?.size !== size) return;
    this.#outstanding = undefined;
    this.#probeFailed(size, now);
  }

  /** An ordinary (non-probe) packet of `size` bytes was acknowledged. */
  onPacketAcked(size: number, packetNumber: number): void {
    this.#blackHole.onPacketAcked(size, packetNumber);
  }

  /** An ordinary (non-probe) packet of `size` bytes was declared lost (RFC 9002 §6.1). */
  onPacketLost(size: number, packetNumber: number, now: number): void {
    requireTime(now);
    if (this.#state !== 'searching' && this.#state !== 'search-complete') return;
    if (!this.#blackHole.onPacketLost(size, packetNumber, this.#plpmtu)) return;
    // RFC 8899 §4.3, §5.2: black hole: back to BASE_PLPMTU, confirm it, then search again.
    this.#lower(MIN_MAX_DATAGRAM_SIZE, 'black-hole');
    this.#enterBase(now);
  }

  /**
   * A validated ICMP Packet Too Big (or IPv4 Fragmentation Needed) for this path, converted to the UDP payload size
   * it allows (RFC 8899 §4.6, RFC 9000 §14.2.1). The caller checks the quoted packet first (§14.2.1). A claim below
   * 1200 is ignored, and ICMP never raises the PMTU (§14.2.1).
   */
  onPacketTooBig(size: number, now: number): void {
    requireTime(now);
    if (this.#state === 'disabled' || !Number.isFinite(size) || size < MIN_MAX_DATAGRAM_SIZE) return;
    const ptb = Math.floor(size);
    const probe = this.#outstanding;
    if (this.#state === 'searching' && probe !== undefined && ptb < probe.size && ptb >= this.#plpmtu) {
      // RFC 8899 §4.6.2: the probe is too big; the reported size is the next candidate.
      this.#outstanding = undefined;
      this.#probedSize = undefined;
      this.#probeCount = 0;
      this.#high = ptb;
      this.#ceilingTried = ptb === this.#plpmtu;
      if (this.#nextSearchSize() === undefined) this.#complete(now);
      return;
    }
    if (ptb >= this.#plpmtu) return;
    this.#lower(ptb, 'packet-too-big');
    this.#outstanding = undefined;
    this.#probedSize = undefined;
    this.#probeCount = 0;
    this.#high = ptb;
    if (this.#state === 'searching' || this.#state === 'search-complete') this.#complete(now);
  }

  /** When to call `onTimeout`: PROBE_TIMER, PMTU_RAISE_TIMER, or the next probe in the ERROR state. */
  nextTimeout(): number | undefined {
    if (this.#outstanding !== undefined) return this.#outstanding.sentAt + this.#probeTimer;
    if (this.#state === 'search-complete') return this.#raiseAt;
    if (this.#state === 'error') return this.#nextProbeAt;
    return undefined;
  }

  onTimeout(now: number): void {
    requireTime(now);
    const probe = this.#outstanding;
    if (probe !== undefined && now >= probe.sentAt + this.#probeTimer) {
      // RFC 8899 §5.3.1: PROBE_TIMER expiry counts as a failed probe.
      this.#outstanding = undefined;
      this.#probeFailed(probe.size, now);
    }
    if (this.#state === 'search-complete' && this.#raiseAt !== undefined && now >= this.#raiseAt) {
      // RFC 8899 §5.2: PMTU_RAISE_TIMER expired, probe for a larger PMTU again.
      this.#enterSearching(now);
    }
  }

  pollEvent(): PmtudEvent | undefined {
    return this.#events.shift();
  }

  #enterBase(now: number): void {
    this.#state = 'base';
    this.#outstanding = undefined;
    this.#probedSize = undefined;
    this.#probeCount = 0;
    this.#nextProbeAt = now;
    this.#raiseAt = undefined;
  }

  #enterSearching(now: number): void {
    this.#state = 'searching';
    this.#high = this.searchLimit;
    this.#ceilingTried = false;
    this.#probedSize = undefined;
    this.#probeCount = 0;
    this.#nextProbeAt = now;
    this.#raiseAt = undefined;
    this.#blackHole.reset();
    if (this.#nextSearchSize() === undefined) this.#complete(now);
  }

  #complete(now: number): void {
    this.#state = 'search-complete';
    this.#probedSize = undefined;
    this.#probeCount = 0;
    // Nothing above the search limit can ever be used, so only a PLPMTU below it is worth re-probing.
    this.#raiseAt = this.#plpmtu < this.searchLimit ? now + this.#raiseTimer : undefined;
    this.#events.push({ type: 'search-complete', pathId: this.pathId, size: this.#plpmtu });
  }

  /** Next PROBED_SIZE: the ceiling first, then bisection; undefined when the search is done. */
  #nextSearchSize(): number | undefined {
    const low = this.#plpmtu;
    if (this.#high <= low) return undefined;
    if (!this.#ceilingTried) return this.#high;
    if (this.#high - low < this.#granularity) return undefined;
    return low + Math.ceil((this.#high - low) / 2);
  }

  #probeFailed(size: number, now: number): void {
    if (this.#state === 'disabled' || this.#state === 'search-complete') return;
    this.#probeCount++;
    if (this.#state === 'error') {
      this.#probeCount = 0;
      this.#nextProbeAt = now + this.#probeTimer;
      return;
    }
    if (this.#probeCount < this.#maxProbes) return;
    // RFC 8899 §5.3.1: PROBE_COUNT reached MAX_PROBES, the size fails.
    this.#probeCount = 0;
    this.#probedSize = undefined;
    if (this.#state === 'base') {
      // RFC 8899 §5.2: BASE_PLPMTU unconfirmed → ERROR; RFC 9000 §14.1: the path is unusable below 1200.
      this.#state = 'error';
      this.#nextProbeAt = now + this.#probeTimer;
      this.#events.push({ type: 'path-unusable', pathId: this.pathId });
      return;
    }
    if (this.#state !== 'searching') return;
    this.#high = Math.min(this.#high, size - 1);
    this.#ceilingTried = true;
    if (this.#nextSearchSize() === undefined) this.#complete(now);
  }

  #raise(size: number): void {
    const previous = this.#plpmtu;
    this.#plpmtu = size;
    if (this.#high < size) this.#high = size;
    this.#events.push({ type: 'mtu-changed', pathId: this.pathId, size, previous, reason: 'probe-acked' });
  }

  #lower(size: number, reason: PmtuChangeReason): void {
    const previous = this.#plpmtu;
    if (size >= previous) return;
    this.#plpmtu = size;
    this.#blackHole.reset();
    this.#events.push({ type: 'mtu-changed', pathId: this.pathId, size, previous, reason });
  }
}
