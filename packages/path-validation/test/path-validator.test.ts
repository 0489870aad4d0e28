import { QuicCodecError, TransportErrorCode, FrameType } from '@pathquic/wire-codec';
import { describe, expect, it } from 'vitest';
import {
  MIN_PROBE_DATAGRAM,
  PathConfigError,
  PathValidator,
  initialPto,
  validationTimeout,
} from '../src/index.js';
import { counterRandom, drain } from './helpers.js';

const timers = { pto: 100, initialPto: 999 };

function validator(): PathValidator {
  return new PathValidator({ random: counterRandom() });
}

describe('initialPto / validationTimeout (RFC 9002 §6.2.2, RFC 9000 §8.2.4)', () => {
  it('computes the PTO from kInitialRtt = 333 ms', () => {
    expect(initialPto(0)).toBe(999);
    expect(initialPto()).toBe(1024); // default max_ack_delay 25 ms
    expect(initialPto(100)).toBe(1099);
  });

  it('is three times the larger PTO', () => {
    expect(validationTimeout(100, 999)).toBe(2997);
    expect(validationTimeout(2000, 999)).toBe(6000);
  });

  it('rejects bad arguments', () => {
    expect(() => initialPto(-1)).toThrow(PathConfigError);
    expect(() => validationTimeout(0, 999)).toThrow(PathConfigError);
    expect(() => validationTimeout(100, Number.POSITIVE_INFINITY)).toThrow(PathConfigError);
  });
});

describe('PathValidator', () => {
  it('sends a full-size challenge with 8 fresh random bytes and succeeds on the echo', () => {
    const v = validator();
    expect(v.state).toBe('idle');
    expect(v.pollTransmit(0)).toBeUndefined();
    v.start(1000, timers);
    expect(v.state).toBe('validating');
    const tx = v.pollTransmit(1000)!;
    expect(tx.frame.type).toBe('path_challenge');
    expect(tx.frame.data).toHaveLength(8);
    expect(tx.padTo).toBe(1200);
    expect(tx.pathId).toBe(0);
    expect(v.onPathResponse(tx.frame.data, 1040)).toBe('validated');
    expect(v.state).toBe('validated');
    expect(v.addressValidated).toBe(true);
    expect(v.mtuValidated).toBe(true);
    expect(drain(() => v.pollEvent())).toEqual([{ type: 'validated', pathId: 0, rtt: 40 }]);
    expect(v.nextTimeout()).toBeUndefined();
  });

  it('uses new data for every challenge', () => {
    const v = validator();
    v.start(0, timers);
    const a = v.pollTransmit(0)!.frame.data;
    const b = v.pollTransmit(100)!.frame.data;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('retransmits no faster than the PTO, doubling the interval each time', () => {
    const v = validator();
    v.start(0, timers);
    const sentAt: number[] = [];
    for (let now = 0; now < 3000; now++) {
      if (v.pollTransmit(now) !== undefined) sentAt.push(now);
    }
    expect(sentAt).toEqual([0, 100, 300, 700, 1500]);
  });

  it('reports the next retransmission or the deadline as its timeout', () => {
    const v = validator();
    v.start(0, timers);
    expect(v.nextTimeout()).toBe(0);
    v.pollTransmit(0);
    expect(v.nextTimeout()).toBe(100);
    expect(v.deadline).toBe(2997);
  });

  it('fails at 3 × max(PTO, initial PTO), not before', () => {
    const v = validator();
    v.start(0, timers);
    v.pollTransmit(0);
    v.onTimeout(2996);
    expect(v.state).toBe('validating');
    v.onTimeout(2997);
    expect(v.state).toBe('failed');
    expect(drain(() => v.pollEvent())).toEqual([{ type: 'failed', pathId: 0, reason: 'timeout' }]);
    expect(v.nextTimeout()).toBeUndefined();
    expect(v.pollTransmit(3000)).toBeUndefined();
  });

  it('uses the current PTO when it is the larger one', () => {
    const v = validator();
    v.start(0, { pto: 1500, initialPto: 999 });
    v.onTimeout(4499);
    expect(v.state).toBe('validating');
    v.onTimeout(4500);
    expect(v.state).toBe('failed');
  });

  it('treats a response at the deadline as too late', () => {
    const v = validator();
    v.start(0, timers);
    const tx = v.pollTransmit(0)!;
    expect(v.onPathResponse(tx.frame.data, 2997)).toBe('stale');
    expect(v.state).toBe('failed');
  });

  it('accepts a response to any outstanding challenge, not only the last', () => {
    const v = validator();
    v.start(0, timers);
    const first = v.pollTransmit(0)!;
    v.pollTransmit(100);
    v.pollTransmit(300);
    expect(v.onPathResponse(first.frame.data, 350)).toBe('validated');
    expect(drain(() => v.pollEvent())).toEqual([{ type: 'validated', pathId: 0, rtt: 350 }]);
  });

  it('ignores responses it never asked for', () => {
    const v = validator();
    v.start(0, timers);
    v.pollTransmit(0);
    expect(v.onPathResponse(new Uint8Array(8).fill(0xee), 10)).toBe('unknown');
    expect(v.state).toBe('validating');
  });

  it('treats a response to an abandoned or earlier validation as stale', () => {
    const v = validator();
    v.start(0, timers);
    const old = v.pollTransmit(0)!;
    v.start(50, timers); // restart: a new validation
    expect(v.onPathResponse(old.frame.data, 60)).toBe('stale');
    expect(v.state).toBe('validating');
    const fresh = v.pollTransmit(60)!;
    v.abandon();
    expect(v.state).toBe('abandoned');
    expect(v.onPathResponse(fresh.frame.data, 70)).toBe('stale');
    expect(drain(() => v.pollEvent())).toEqual([]);
  });

  it('counts a second answer as stale once validated', () => {
    const v = validator();
    v.start(0, timers);
    const a = v.pollTransmit(0)!;
    const b = v.pollTransmit(100)!;
    expect(v.onPathResponse(a.frame.data, 120)).toBe('validated');
    expect(v.onPathResponse(b.frame.data, 130)).toBe('stale');
  });

  it('does not accept an ACK as validation: only the response counts', () => {
    // RFC 9000 §8.2.3: there is deliberately no "onAcked" input; time passing without a response fails.
    const v = validator();
    v.start(0, timers);
    v.pollTransmit(0);
    v.onTimeout(3000);
    expect(v.state).toBe('failed');
  });

  describe('under the anti-amplification limit (RFC 9000 §8.2.1, §8.2.3)', () => {
    it('pads only up to the allowance, then re-validates the MTU with a full-size datagram', () => {
      const v = validator();
      v.start(0, timers);
      const small = v.pollTransmit(0, 600)!;
      expect(small.padTo).toBe(600);
      expect(v.onPathResponse(small.frame.data, 50)).toBe('address-validated');
      expect(v.addressValidated).toBe(true);
      expect(v.mtuValidated).toBe(false);
      expect(v.state).toBe('validating');
      expect(drain(() => v.pollEvent())).toEqual([{ type: 'address-validated', pathId: 0, rtt: 50 }]);
      // The full-size challenge needs 1200 bytes of allowance.
      expect(v.pollTransmit(50, 1199)).toBeUndefined();
      const full = v.pollTransmit(50)!;
      expect(full.padTo).toBe(1200);
      expect(v.onPathResponse(full.frame.data, 90)).toBe('validated');
      expect(v.mtuValidated).toBe(true);
      expect(drain(() => v.pollEvent())).toEqual([{ type: 'validated', pathId: 0, rtt: 40 }]);
    });

    it('fails with reason mtu when the full-size re-validation times out', () => {
      const v = validator();
      v.start(0, timers);
      const small = v.pollTransmit(0, 300)!;
      v.onPathResponse(small.frame.data, 100);
      v.pollEvent();
      v.pollTransmit(100);
      // The MTU re-validation is a new validation with its own deadline (100 + 2997).
      v.onTimeout(3096);
      expect(v.state).toBe('validating');
      v.onTimeout(3097);
      expect(v.state).toBe('failed');
      expect(v.addressValidated).toBe(true);
      expect(drain(() => v.pollEvent())).toEqual([{ type: 'failed', pathId: 0, reason: 'mtu' }]);
    });

    it('counts a response to a full-size challenge of the same validation after an unexpanded one', () => {
      const v = validator();
      v.start(0, timers);
      const small = v.pollTransmit(0, 500)!;
      const full = v.pollTransmit(100, 5000)!;
      expect(full.padTo).toBe(1200);
      expect(v.onPathResponse(full.frame.data, 150)).toBe('validated');
      expect(v.onPathResponse(small.frame.data, 160)).toBe('stale');
    });

    it('sends nothing below the smallest probe datagram and waits without spinning', () => {
      const v = validator();
      v.start(0, timers);
      expect(v.pollTransmit(0, MIN_PROBE_DATAGRAM - 1)).toBeUndefined();
      expect(v.nextTimeout()).toBe(2997); // blocked: only the deadline
      const tx = v.pollTransmit(10, MIN_PROBE_DATAGRAM)!;
      expect(tx.padTo).toBe(MIN_PROBE_DATAGRAM);
      expect(v.nextTimeout()).toBe(110);
    });
  });

  describe('errors', () => {
    it('rejects a PATH_RESPONSE whose data is not 8 bytes with FRAME_ENCODING_ERROR', () => {
      const v = validator();
      v.start(0, timers);
      try {
        v.onPathResponse(new Uint8Array(7), 1);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(QuicCodecError);
        expect((error as QuicCodecError).code).toBe(TransportErrorCode.FRAME_ENCODING_ERROR);
        expect((error as QuicCodecError).frameType).toBe(FrameType.PATH_RESPONSE);
      }
    });

    it('rejects bad timers, times and options with PathConfigError', () => {
      const v = validator();
      expect(() => v.start(0, { pto: 0, initialPto: 999 })).toThrow(PathConfigError);
      expect(() => v.start(0, { pto: 100, initialPto: -1 })).toThrow(PathConfigError);
      expect(() => v.start(Number.NaN, timers)).toThrow(PathConfigError);
      expect(() => new PathValidator({ minDatagramSize: 0 })).toThrow(PathConfigError);
      expect(() => new PathValidator({ minDatagramSize: 1201 })).toThrow(PathConfigError);
      expect(() => new PathValidator({ pathId: 1.5 })).toThrow(PathConfigError);
    });

    it('rejects a random source that breaks its contract', () => {
      const v = new PathValidator({ random: () => new Uint8Array(4) });
      v.start(0, timers);
      expect(() => v.pollTransmit(0)).toThrow(PathConfigError);
    });
  });

  it('uses the platform CSPRNG by default and carries its path ID', () => {
    const v = new PathValidator({ pathId: 3 });
    v.start(0, timers);
    const a = v.pollTransmit(0)!;
    expect(a.pathId).toBe(3);
    expect(a.frame.data).toHaveLength(8);
    v.onPathResponse(a.frame.data, 5);
    expect(v.pollEvent()).toEqual({ type: 'validated', pathId: 3, rtt: 5 });
  });
});

describe('PathValidator after an early answer to a small challenge', () => {
  it('keeps waiting for a full-size challenge already in flight instead of sending another at once', () => {
    const v = new PathValidator({ random: counterRandom() });
    v.start(0, { pto: 100, initialPto: 999 });
    const small = v.pollTransmit(0, 300)!;
    const full = v.pollTransmit(100, 5000)!;
    expect(v.onPathResponse(small.frame.data, 120)).toBe('address-validated');
    expect(v.pollTransmit(120)).toBeUndefined();
    expect(v.nextTimeout()).toBe(300);
    expect(v.deadline).toBe(120 + 2997);
    expect(v.onPathResponse(full.frame.data, 140)).toBe('validated');
  });
});
