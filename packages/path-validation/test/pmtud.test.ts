import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import { describe, expect, it } from 'vitest';
import { BlackHoleDetector, PathConfigError, Pmtud } from '../src/index.js';
import type { PmtudEvent, PmtudOptions } from '../src/index.js';
import { drain } from './helpers.js';

/** Runs the search against a path that carries `pathMtu` bytes, acking or losing each probe one RTT later. */
function search(pmtud: Pmtud, pathMtu: number, start = 0, rtt = 50): { now: number; probes: number[] } {
  let now = start;
  const probes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const probe = pmtud.pollProbe(now);
    if (probe === undefined) break;
    probes.push(probe.size);
    now += rtt;
    if (probe.size <= pathMtu) pmtud.onProbeAcked(probe.size, now);
    else pmtud.onProbeLost(probe.size, now);
  }
  return { now, probes };
}

const events = (p: Pmtud): PmtudEvent[] => drain(() => p.pollEvent());
const started = (options: PmtudOptions = {}): Pmtud => {
  const pmtud = new Pmtud(options);
  pmtud.start(0);
  return pmtud;
};

describe('Pmtud (RFC 8899 as profiled by RFC 9000 §14.3)', () => {
  it('is disabled until started and sends 1200-byte datagrams meanwhile', () => {
    const pmtud = new Pmtud();
    expect(pmtud.state).toBe('disabled');
    expect(pmtud.maxDatagramSize).toBe(1200);
    expect(pmtud.pollProbe(0)).toBeUndefined();
    expect(pmtud.nextTimeout()).toBeUndefined();
    expect(pmtud.searchLimit).toBe(1452);
  });

  it('confirms the ceiling with a single probe when the path carries it', () => {
    const pmtud = started();
    expect(pmtud.state).toBe('searching');
    const result = search(pmtud, 1500);
    expect(result.probes).toEqual([1452]);
    expect(pmtud.maxDatagramSize).toBe(1452);
    expect(pmtud.state).toBe('search-complete');
    expect(events(pmtud)).toEqual([
      { type: 'mtu-changed', pathId: 0, size: 1452, previous: 1200, reason: 'probe-acked' },
      { type: 'search-complete', pathId: 0, size: 1452 },
    ]);
    // Nothing above the limit can be used, so there is no raise timer.
    expect(pmtud.nextTimeout()).toBeUndefined();
  });

  it('retries a size MAX_PROBES times, then bisects down to the path MTU within the granularity', () => {
    const pmtud = started();
    const { probes } = search(pmtud, 1350);
    expect(probes.slice(0, 3)).toEqual([1452, 1452, 1452]);
    expect(probes.every((size) => size > 1200 && size <= 1452)).toBe(true);
    expect(pmtud.state).toBe('search-complete');
    expect(pmtud.maxDatagramSize).toBeLessThanOrEqual(1350);
    expect(pmtud.maxDatagramSize).toBeGreaterThan(1350 - 20);
  });

  it('completes at 1200 when nothing larger gets through', () => {
    const pmtud = started();
    search(pmtud, 1200);
    expect(pmtud.state).toBe('search-complete');
    expect(pmtud.maxDatagramSize).toBe(1200);
    expect(pmtud.usable).toBe(true);
  });

  it('only ever has one probe in flight', () => {
    const pmtud = started();
    expect(pmtud.pollProbe(0)).toEqual({ size: 1452, pathId: 0 });
    expect(pmtud.probeInFlight).toBe(1452);
    expect(pmtud.pollProbe(1)).toBeUndefined();
  });

  it('counts a PROBE_TIMER expiry as a failed probe (RFC 8899 §5.3.1)', () => {
    const pmtud = started({ probeTimer: 2000, maxProbes: 1 });
    pmtud.pollProbe(0);
    expect(pmtud.nextTimeout()).toBe(2000);
    pmtud.onTimeout(1999);
    expect(pmtud.probeInFlight).toBe(1452);
    pmtud.onTimeout(2000);
    expect(pmtud.probeInFlight).toBeUndefined();
    expect(pmtud.pollProbe(2000)!.size).toBe(1326); // bisecting 1200..1451
  });

  it('ignores loss reports for a probe that is not in flight', () => {
    const pmtud = started({ maxProbes: 1 });
    pmtud.pollProbe(0);
    pmtud.onProbeLost(1300, 10);
    expect(pmtud.probeInFlight).toBe(1452);
  });

  it('accepts a late acknowledgment of a probe as proof of its size', () => {
    const pmtud = started({ probeTimer: 1000, maxProbes: 1 });
    pmtud.pollProbe(0);
    pmtud.onTimeout(1000); // 1452 "failed"
    pmtud.pollProbe(1000); // 1326 in flight
    pmtud.onProbeAcked(1452, 1100); // the first probe was only slow
    expect(pmtud.maxDatagramSize).toBe(1452);
    expect(pmtud.state).toBe('search-complete');
  });

  it('searches again after PMTU_RAISE_TIMER (600 s) and finds a larger PMTU', () => {
    const pmtud = started();
    const { now } = search(pmtud, 1300);
    const low = pmtud.maxDatagramSize;
    expect(pmtud.nextTimeout()).toBe(now + 600_000);
    pmtud.onTimeout(now + 599_999);
    expect(pmtud.state).toBe('search-complete');
    pmtud.onTimeout(now + 600_000);
    expect(pmtud.state).toBe('searching');
    search(pmtud, 1500, now + 600_000);
    expect(low).toBeLessThan(1300);
    expect(pmtud.maxDatagramSize).toBe(1452);
  });

  it('detects a black hole, drops to 1200, confirms it and searches again (RFC 8899 §4.3)', () => {
    const pmtud = started();
    search(pmtud, 1500);
    events(pmtud);
    // The path MTU drops to 1300: full-size packets vanish while small ones (e.g. ACK-only) still get through.
    pmtud.onPacketAcked(1452, 10);
    pmtud.onPacketLost(1452, 11, 1000);
    pmtud.onPacketLost(1452, 12, 1000);
    expect(pmtud.maxDatagramSize).toBe(1452);
    pmtud.onPacketLost(1452, 13, 1000);
    expect(pmtud.maxDatagramSize).toBe(1200);
    expect(pmtud.state).toBe('base');
    expect(events(pmtud)).toEqual([
      { type: 'mtu-changed', pathId: 0, size: 1200, previous: 1452, reason: 'black-hole' },
    ]);
    expect(pmtud.pollProbe(1000)!.size).toBe(1200);
    pmtud.onProbeAcked(1200, 1050);
    expect(pmtud.state).toBe('searching');
    search(pmtud, 1300, 1050);
    expect(pmtud.maxDatagramSize).toBeLessThanOrEqual(1300);
    expect(pmtud.maxDatagramSize).toBeGreaterThan(1280);
  });

  it('does not mistake congestion loss for a black hole', () => {
    const pmtud = started();
    search(pmtud, 1500);
    // A later full-size packet was acknowledged first: the lost ones were not too big.
    pmtud.onPacketAcked(1452, 20);
    for (let pn = 10; pn < 20; pn++) pmtud.onPacketLost(1452, pn, 100);
    expect(pmtud.maxDatagramSize).toBe(1452);
    // Small packets never count either.
    for (let pn = 30; pn < 40; pn++) pmtud.onPacketLost(1200, pn, 100);
    expect(pmtud.maxDatagramSize).toBe(1452);
  });

  it('breaks a loss run when a full-size packet sent after it gets through', () => {
    const pmtud = started();
    search(pmtud, 1500);
    pmtud.onPacketLost(1452, 1, 0);
    pmtud.onPacketLost(1452, 2, 0);
    pmtud.onPacketAcked(1452, 3);
    pmtud.onPacketLost(1452, 4, 0);
    pmtud.onPacketLost(1452, 5, 0);
    expect(pmtud.maxDatagramSize).toBe(1452);
    pmtud.onPacketLost(1452, 6, 0);
    expect(pmtud.maxDatagramSize).toBe(1200);
  });

  describe('BASE and ERROR states', () => {
    it('confirms BASE_PLPMTU with a probe when asked, then searches', () => {
      const pmtud = new Pmtud();
      pmtud.start(0, { baseConfirmed: false });
      expect(pmtud.state).toBe('base');
      expect(pmtud.pollProbe(0)!.size).toBe(1200);
      pmtud.onProbeAcked(1200, 30);
      expect(pmtud.state).toBe('searching');
    });

    it('enters ERROR when 1200 bytes do not get through, keeps probing slowly, and recovers (RFC 9000 §14.1)', () => {
      const pmtud = new Pmtud({ probeTimer: 5000 });
      pmtud.start(0, { baseConfirmed: false });
      for (let i = 0; i < 3; i++) {
        expect(pmtud.pollProbe(i * 10)!.size).toBe(1200);
        pmtud.onProbeLost(1200, i * 10 + 5);
      }
      expect(pmtud.state).toBe('error');
      expect(pmtud.usable).toBe(false);
      expect(events(pmtud)).toEqual([{ type: 'path-unusable', pathId: 0 }]);
      expect(pmtud.pollProbe(100)).toBeUndefined();
      expect(pmtud.nextTimeout()).toBe(25 + 5000);
      const probe = pmtud.pollProbe(5025)!;
      expect(probe.size).toBe(1200);
      pmtud.onProbeLost(1200, 5100);
      expect(pmtud.state).toBe('error');
      expect(pmtud.nextTimeout()).toBe(10_100);
      pmtud.pollProbe(10_100);
      pmtud.onProbeAcked(1200, 10_150);
      expect(pmtud.usable).toBe(true);
      expect(pmtud.state).toBe('searching');
      expect(events(pmtud)).toEqual([{ type: 'path-usable', pathId: 0 }]);
    });
  });

  describe('ICMP Packet Too Big (RFC 8899 §4.6, RFC 9000 §14.2.1)', () => {
    it('ignores claims below 1200 and never raises the PMTU from ICMP', () => {
      const pmtud = started();
      search(pmtud, 1500);
      pmtud.onPacketTooBig(1000, 10);
      pmtud.onPacketTooBig(9000, 10);
      expect(pmtud.maxDatagramSize).toBe(1452);
    });

    it('uses the reported size as the next probe when it rejects the probe in flight', () => {
      const pmtud = started();
      expect(pmtud.pollProbe(0)!.size).toBe(1452);
      pmtud.onPacketTooBig(1400, 5);
      expect(pmtud.probeInFlight).toBeUndefined();
      expect(pmtud.pollProbe(5)!.size).toBe(1400);
      pmtud.onProbeAcked(1400, 50);
      expect(pmtud.maxDatagramSize).toBe(1400);
      expect(pmtud.state).toBe('search-complete');
    });

    it('lowers the PMTU when the path shrank below it', () => {
      const pmtud = started();
      const { now } = search(pmtud, 1500);
      events(pmtud);
      pmtud.onPacketTooBig(1280, now);
      expect(pmtud.maxDatagramSize).toBe(1280);
      expect(pmtud.state).toBe('search-complete');
      expect(events(pmtud)).toEqual([
        { type: 'mtu-changed', pathId: 0, size: 1280, previous: 1452, reason: 'packet-too-big' },
        { type: 'search-complete', pathId: 0, size: 1280 },
      ]);
      expect(pmtud.nextTimeout()).toBe(now + 600_000);
    });
  });

  describe('limits', () => {
    it('never probes above the peer’s max_udp_payload_size (RFC 9000 §18.2)', () => {
      const pmtud = new Pmtud({ maxUdpPayload: 9000, peerMaxUdpPayload: 1400 });
      pmtud.start(0);
      expect(pmtud.pollProbe(0)!.size).toBe(1400);
      const lowered = new Pmtud({ maxUdpPayload: 9000 });
      lowered.start(0);
      search(lowered, 9000);
      expect(lowered.maxDatagramSize).toBe(9000);
      lowered.setPeerMaxUdpPayload(1350);
      expect(lowered.maxDatagramSize).toBe(1350);
      expect(drain(() => lowered.pollEvent()).at(-1)).toMatchObject({ reason: 'peer-limit', size: 1350 });
    });

    it('rejects a peer max_udp_payload_size below 1200 as TRANSPORT_PARAMETER_ERROR', () => {
      const pmtud = new Pmtud();
      try {
        pmtud.setPeerMaxUdpPayload(1199);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(QuicCodecError);
        expect((error as QuicCodecError).code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
      }
    });

    it('searches up to jumbo sizes when configured', () => {
      const pmtud = new Pmtud({ maxUdpPayload: 65527 });
      pmtud.start(0);
      search(pmtud, 8972);
      expect(pmtud.maxDatagramSize).toBeLessThanOrEqual(8972);
      expect(pmtud.maxDatagramSize).toBeGreaterThan(8972 - 20);
    });

    it('rejects bad options with PathConfigError', () => {
      expect(() => new Pmtud({ probeTimer: 999 })).toThrow(/RFC 8899/);
      expect(() => new Pmtud({ maxUdpPayload: 1199 })).toThrow(PathConfigError);
      expect(() => new Pmtud({ maxUdpPayload: 65528 })).toThrow(PathConfigError);
      expect(() => new Pmtud({ maxProbes: 0 })).toThrow(PathConfigError);
      expect(() => new Pmtud({ raiseTimer: -1 })).toThrow(PathConfigError);
      expect(() => new Pmtud({ searchGranularity: 0 })).toThrow(PathConfigError);
      expect(() => new Pmtud().pollProbe(Number.NaN)).toThrow(PathConfigError);
    });
  });
});

describe('BlackHoleDetector', () => {
  it('ignores packets above the current PLPMTU (sent before a decrease)', () => {
    const detector = new BlackHoleDetector(1);
    expect(detector.onPacketLost(1452, 1, 1300)).toBe(false);
    expect(detector.onPacketLost(1300, 2, 1300)).toBe(true);
  });

  it('does not let an older acknowledged packet cancel newer losses', () => {
    const detector = new BlackHoleDetector(2);
    detector.onPacketLost(1400, 10, 1400);
    detector.onPacketAcked(1400, 5);
    expect(detector.lossRun).toBe(1);
    expect(detector.onPacketLost(1400, 11, 1400)).toBe(true);
  });

  it('lets a smaller acknowledged packet leave the run alone', () => {
    const detector = new BlackHoleDetector(2);
    detector.onPacketLost(1400, 10, 1400);
    detector.onPacketAcked(1300, 12);
    expect(detector.onPacketLost(1400, 11, 1400)).toBe(true);
  });
});
