import { FrameType, QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import { describe, expect, it } from 'vitest';
import { ChallengeResponder, MIN_PROBE_DATAGRAM, PathConfigError } from '../src/index.js';

const bytes = (n: number): Uint8Array => new Uint8Array(8).fill(n);

describe('ChallengeResponder (RFC 9000 §8.2.2)', () => {
  it('echoes the data exactly once, on the path the challenge arrived on, padded to 1200', () => {
    const responder = new ChallengeResponder();
    responder.onPathChallenge('A', bytes(1));
    expect(responder.pollTransmitOn('B')).toBeUndefined();
    const tx = responder.pollTransmitOn('A')!;
    expect(tx).toEqual({
      path: 'A',
      pathId: 0,
      frame: { type: 'path_response', data: bytes(1) },
      padTo: 1200,
      elicitNonProbing: false,
    });
    expect(responder.pollTransmitOn('A')).toBeUndefined();
    expect(responder.pollTransmit()).toBeUndefined();
  });

  it('answers every challenge, even two in one packet, oldest first', () => {
    const responder = new ChallengeResponder();
    responder.onPathChallenge('A', bytes(1));
    responder.onPathChallenge('A', bytes(2));
    responder.onPathChallenge('B', bytes(3));
    expect(responder.pending()).toBe(3);
    expect(responder.pending('A')).toBe(2);
    const sent = [responder.pollTransmit(), responder.pollTransmit(), responder.pollTransmit()];
    expect(sent.map((t) => [t!.path, t!.frame.data[0]])).toEqual([
      ['A', 1],
      ['A', 2],
      ['B', 3],
    ]);
  });

  it('copies the data, which aliases the received datagram', () => {
    const responder = new ChallengeResponder();
    const datagram = bytes(9);
    responder.onPathChallenge('A', datagram);
    datagram.fill(0);
    expect(responder.pollTransmit()!.frame.data).toEqual(bytes(9));
  });

  it('pads less when the amplification limit forbids 1200, and waits when even a small datagram is too much', () => {
    const responder = new ChallengeResponder();
    responder.onPathChallenge('A', bytes(1));
    expect(responder.pollTransmitOn('A', MIN_PROBE_DATAGRAM - 1)).toBeUndefined();
    expect(responder.pending('A')).toBe(1);
    expect(responder.pollTransmitOn('A', 900.7)!.padTo).toBe(900);
  });

  it('skips paths whose allowance is too small and sends the next one', () => {
    const responder = new ChallengeResponder();
    responder.onPathChallenge('blocked', bytes(1));
    responder.onPathChallenge('open', bytes(2));
    const allowance = (path: string): number => (path === 'blocked' ? 10 : 3000);
    const tx = responder.pollTransmit(allowance)!;
    expect(tx.path).toBe('open');
    expect(responder.pollTransmit(allowance)).toBeUndefined();
    expect(responder.pending()).toBe(1);
  });

  it('bounds the queue by dropping the oldest, so a flood cannot grow memory', () => {
    const responder = new ChallengeResponder({ maxQueued: 4 });
    for (let i = 0; i < 1000; i++) responder.onPathChallenge('A', bytes(i & 0xff));
    expect(responder.pending()).toBe(4);
    expect(responder.dropped).toBe(996);
    expect(responder.pollTransmit()!.frame.data[0]).toBe(996 & 0xff);
  });

  it('flags responses to challenges on the active path to elicit a non-probing packet (RFC 9000 §9.3.3)', () => {
    const responder = new ChallengeResponder();
    responder.onPathChallenge('A', bytes(1), { onActivePath: true });
    expect(responder.pollTransmit()!.elicitNonProbing).toBe(true);
  });

  it('keeps multipath path IDs apart', () => {
    const responder = new ChallengeResponder();
    responder.onPathChallenge('A', bytes(1), { pathId: 2 });
    expect(responder.pollTransmitOn('A', 2000, 1)).toBeUndefined();
    expect(responder.pollTransmitOn('A', 2000, 2)!.pathId).toBe(2);
  });

  it('forgets the responses of a discarded path', () => {
    const responder = new ChallengeResponder();
    responder.onPathChallenge('A', bytes(1));
    responder.onPathChallenge('B', bytes(2));
    responder.onPathChallenge('A', bytes(3));
    responder.discardPath('A');
    expect(responder.pending()).toBe(1);
    expect(responder.pollTransmit()!.path).toBe('B');
  });

  it('rejects challenge data that is not 8 bytes with FRAME_ENCODING_ERROR', () => {
    const responder = new ChallengeResponder();
    const error = (() => {
      try {
        responder.onPathChallenge('A', new Uint8Array(9));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(QuicCodecError);
    expect((error as QuicCodecError).code).toBe(TransportErrorCode.FRAME_ENCODING_ERROR);
    expect((error as QuicCodecError).frameType).toBe(FrameType.PATH_CHALLENGE);
    expect(responder.pending()).toBe(0);
  });

  it('rejects bad options with PathConfigError', () => {
    expect(() => new ChallengeResponder({ maxQueued: 0 })).toThrow(PathConfigError);
    expect(() => new ChallengeResponder({ minDatagramSize: 2000 })).toThrow(PathConfigError);
    expect(() => new ChallengeResponder().onPathChallenge('A', bytes(1), { pathId: -2 })).toThrow(PathConfigError);
  });
});
