import { FrameType, QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import { describe, expect, it } from 'vitest';
import { MigrationController, PathConfigError } from '../src/index.js';
import type { MigrationControllerOptions, MigrationEvent, PathAddress, ProbeTransmit } from '../src/index.js';
import { counterRandom, drain, path } from './helpers.js';

const R = path('192.0.2.10', 5000, '198.51.100.1', 443); // the client's handshake address, seen by the server
const N = path('203.0.113.7', 6000, '198.51.100.1', 443); // a new client address
const R2 = path('192.0.2.10', 5001, '198.51.100.1', 443); // same IP, new port: NAT rebinding

function server(options: Partial<MigrationControllerOptions> = {}): MigrationController {
  const controller = new MigrationController({
    role: 'server',
    initialPath: R,
    random: counterRandom(),
    pto: 100,
    maxAckDelay: 0,
    ...options,
  });
  controller.onAddressValidated();
  controller.onHandshakeConfirmed();
  return controller;
}

function events(controller: MigrationController): MigrationEvent[] {
  return drain(() => controller.pollEvent());
}

function transmits(controller: MigrationController, now: number): ProbeTransmit[] {
  return drain(() => controller.pollTransmit(now));
}

function challengesOn(list: ProbeTransmit[], p: PathAddress): Uint8Array[] {
  return list
    .filter((t) => t.path.key === p.key)
    .flatMap((t) => t.frames.filter((f) => f.type === 'path_challenge').map((f) => f.data));
}

describe('MigrationController, server side (RFC 9000 §9.3)', () => {
  it('limits the initial path by amplification until the handshake validates the address (§8.1)', () => {
    const controller = new MigrationController({ role: 'server', initialPath: R });
    expect(controller.allowance()).toBe(0);
    // Datagrams are counted even when their packets were not processed (no packet number).
    expect(controller.onDatagram({ path: R, bytes: 1200, now: 0 })).toBe('process');
    expect(controller.allowance(R.key)).toBe(3600);
    controller.onDatagramSent(R.key, 3600);
    expect(controller.canSend(R.key, 1)).toBe(false);
    expect(() => controller.onDatagramSent(R.key, 1)).toThrow(PathConfigError);
    controller.onAddressValidated();
    expect(controller.allowance()).toBe(Number.POSITIVE_INFINITY);
  });

  it('drops packets from a new address before the handshake is confirmed (§9)', () => {
    const controller = new MigrationController({ role: 'server', initialPath: R });
    expect(controller.onDatagram({ path: N, bytes: 100, now: 0, packetNumber: 5, nonProbing: true })).toBe(
      'handshake-not-confirmed',
    );
    expect(controller.onDatagram({ path: N, bytes: 100, now: 0 })).toBe('untracked-path');
    expect(controller.paths()).toHaveLength(1);
    expect(controller.activePath).toBe(R);
  });

  it('follows the highest-numbered non-probing packet to a new address and validates both paths', () => {
    const controller = server();
    expect(controller.onDatagram({ path: R, bytes: 100, now: 0, packetNumber: 1, nonProbing: true })).toBe('process');
    expect(controller.onDatagram({ path: N, bytes: 100, now: 10, packetNumber: 2, nonProbing: true })).toBe('process');
    expect(controller.activePath).toBe(N);
    expect(events(controller)).toEqual([
      { type: 'active-path-changed', pathId: 0, from: R, to: N, reason: 'peer-migration', congestion: 'reset' },
      { type: 'path-validation-started', pathId: 0, path: N, purpose: 'new-peer-address' },
      { type: 'path-validation-started', pathId: 0, path: R, purpose: 'previous-path' },
    ]);
    const sent = transmits(controller, 10);
    // New path: under the amplification limit (100 bytes received → 300), so its challenge is not expanded.
    const onN = sent.filter((t) => t.path.key === N.key);
    expect(onN).toHaveLength(1);
    expect(onN[0]!.padTo).toBe(300);
    // §9.3.3: the previously active path is validated too, at full size.
    const onR = sent.filter((t) => t.path.key === R.key);
    expect(onR).toHaveLength(1);
    expect(onR[0]!.padTo).toBe(1200);
    expect(controller.largestNonProbingPacketNumber).toBe(2);
  });

  it('does not move on a reordered (lower-numbered) non-probing packet or on a probing packet', () => {
    const controller = server();
    controller.onDatagram({ path: R, bytes: 100, now: 0, packetNumber: 10, nonProbing: true });
    expect(controller.onDatagram({ path: N, bytes: 100, now: 1, packetNumber: 9, nonProbing: true })).toBe('process');
    expect(controller.activePath).toBe(R);
    expect(controller.onDatagram({ path: N, bytes: 100, now: 2, packetNumber: 11, nonProbing: false })).toBe('process');
    expect(controller.activePath).toBe(R);
    expect(events(controller)).toEqual([]);
    // The probing path is tracked (amplification accounting) but not validated by the server.
    expect(controller.pathStatus(N.key)).toMatchObject({ active: false, validated: false, validating: false, allowance: 600 });
  });

  it('answers a probe on a new path on that path, within its amplification allowance', () => {
    const controller = server();
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 3, nonProbing: false });
    controller.onPathChallenge(N.key, new Uint8Array(8).fill(7));
    const [tx] = transmits(controller, 0);
    expect(tx!.path).toBe(N);
    expect(tx!.frames).toEqual([{ type: 'path_response', data: new Uint8Array(8).fill(7) }]);
    expect(tx!.padTo).toBe(1200);
    expect(tx!.elicitNonProbing).toBe(false);
    controller.onDatagramSent(N.key, 1200);
    expect(controller.allowance(N.key)).toBe(2400);
  });

  it('treats a port-only change as NAT rebinding and keeps congestion state (§9.4)', () => {
    const controller = server();
    controller.onDatagram({ path: R2, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    expect(events(controller).slice(0, 2)).toEqual([
      { type: 'active-path-changed', pathId: 0, from: R, to: R2, reason: 'nat-rebinding', congestion: 'keep' },
      { type: 'path-validation-started', pathId: 0, path: R2, purpose: 'new-peer-address' },
    ]);
    expect(controller.pathStatus(R2.key)?.validating).toBe(true);
  });

  it('lifts the limit once the new path validates, and keeps the old path if it answers too', () => {
    const controller = server();
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    events(controller);
    const sent = transmits(controller, 0);
    for (const data of [...challengesOn(sent, N), ...challengesOn(sent, R)]) {
      expect(controller.onPathResponse(data, 30)).toBe('validated');
    }
    expect(events(controller)).toEqual([
      { type: 'path-validated', pathId: 0, path: N, mtuValidated: true, rtt: 30 },
      { type: 'path-validated', pathId: 0, path: R, mtuValidated: true, rtt: 30 },
    ]);
    expect(controller.allowance(N.key)).toBe(Number.POSITIVE_INFINITY);
    expect(controller.nextTimeout()).toBeUndefined();
  });

  it('validates the address first and the MTU after when the first challenge could not be expanded (§8.2.3)', () => {
    const controller = server();
    controller.onDatagram({ path: N, bytes: 60, now: 0, packetNumber: 1, nonProbing: true });
    events(controller);
    const first = transmits(controller, 0);
    expect(first.find((t) => t.path.key === N.key)!.padTo).toBe(180);
    controller.onPathResponse(challengesOn(first, N)[0]!, 20);
    expect(events(controller)).toEqual([{ type: 'path-validated', pathId: 0, path: N, mtuValidated: false, rtt: 20 }]);
    const second = transmits(controller, 20).filter((t) => t.path.key === N.key);
    expect(second).toHaveLength(1);
    expect(second[0]!.padTo).toBe(1200);
    controller.onPathResponse(challengesOn(second, N)[0]!, 40);
    expect(events(controller)).toEqual([{ type: 'path-validated', pathId: 0, path: N, mtuValidated: true, rtt: 20 }]);
  });

  it('falls back to the last validated path when validation of the new one fails (§9.3.2)', () => {
    const controller = server();
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    events(controller);
    const sent = transmits(controller, 0);
    controller.onPathResponse(challengesOn(sent, R)[0]!, 20); // the old path is alive
    events(controller);
    // 3 × max(100, 999) = 2997 ms later the new path is abandoned.
    expect(controller.nextTimeout()).toBe(100);
    controller.onTimeout(2997);
    expect(events(controller)).toEqual([
      { type: 'path-validation-failed', pathId: 0, path: N, reason: 'timeout' },
      { type: 'active-path-changed', pathId: 0, from: N, to: R, reason: 'fallback', congestion: 'restore' },
      { type: 'path-discarded', pathId: 0, path: N },
    ]);
    expect(controller.activePath).toBe(R);
    expect(controller.paths().map((s) => s.path.key)).toEqual([R.key]);
  });

  it('returns to the legitimate address on its next packet after a spoofed one, without revalidating (§9.3.2)', () => {
    const controller = server();
    controller.onDatagram({ path: R, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    controller.onDatagram({ path: N, bytes: 1200, now: 1, packetNumber: 2, nonProbing: true }); // spoofed copy
    controller.onDatagram({ path: R, bytes: 1200, now: 2, packetNumber: 3, nonProbing: true });
    expect(events(controller)).toEqual([
      { type: 'active-path-changed', pathId: 0, from: R, to: N, reason: 'peer-migration', congestion: 'reset' },
      { type: 'path-validation-started', pathId: 0, path: N, purpose: 'new-peer-address' },
      { type: 'path-validation-started', pathId: 0, path: R, purpose: 'previous-path' },
      { type: 'active-path-changed', pathId: 0, from: N, to: R, reason: 'peer-migration', congestion: 'restore' },
      // The spurious path's validation is abandoned and the path forgotten.
      { type: 'path-discarded', pathId: 0, path: N },
    ]);
    expect(controller.activePath).toBe(R);
    expect(controller.nextTimeout()).toBeUndefined();
  });

  it('reports no viable path when neither the new nor the previous path validates', () => {
    const controller = server();
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    events(controller);
    transmits(controller, 0);
    controller.onTimeout(5000);
    expect(events(controller)).toEqual([
      { type: 'path-validation-failed', pathId: 0, path: R, reason: 'timeout' },
      { type: 'path-discarded', pathId: 0, path: R },
      { type: 'path-validation-failed', pathId: 0, path: N, reason: 'timeout' },
      { type: 'no-viable-path', pathId: 0, path: N },
    ]);
  });

  it('asks for a non-probing packet when challenged on the active path (§9.3.3)', () => {
    const controller = server();
    controller.onPathChallenge(R.key, new Uint8Array(8).fill(1));
    const [tx] = transmits(controller, 0);
    expect(tx!.elicitNonProbing).toBe(true);
  });

  it('puts its own challenge in the same datagram as a response on a path it validates (§8.2)', () => {
    const controller = server();
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    controller.onPathChallenge(N.key, new Uint8Array(8).fill(5));
    const sent = transmits(controller, 0);
    const onN = sent.filter((t) => t.path.key === N.key);
    expect(onN).toHaveLength(1);
    expect(onN[0]!.frames.map((f) => f.type)).toEqual(['path_response', 'path_challenge']);
    expect(onN[0]!.elicitNonProbing).toBe(true); // N is the active path now
  });

  describe('with disable_active_migration sent (§9, §18.2)', () => {
    it('drops packets from a new address, silently', () => {
      const controller = server({ disableActiveMigration: true });
      expect(controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true })).toBe(
        'migration-disabled',
      );
      expect(controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 2, nonProbing: false })).toBe(
        'migration-disabled',
      );
      expect(controller.activePath).toBe(R);
      expect(events(controller)).toEqual([]);
    });

    it('still follows NAT rebinding (a port-only change) unless told not to', () => {
      const lenient = server({ disableActiveMigration: true });
      expect(lenient.onDatagram({ path: R2, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true })).toBe('process');
      expect(lenient.activePath).toBe(R2);
      const strict = server({ disableActiveMigration: true, allowNatRebinding: false });
      expect(strict.onDatagram({ path: R2, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true })).toBe(
        'migration-disabled',
      );
    });

    it('can validate and follow instead of dropping', () => {
      const controller = server({ disableActiveMigration: true, onDisabledMigration: 'validate' });
      expect(controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true })).toBe('process');
      expect(controller.activePath).toBe(N);
    });
  });

  it('sends nothing on a path without a peer CID until one is available (§9.5)', () => {
    let cids = 0;
    const controller = server({ acquirePeerCid: () => cids-- > 0 });
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    expect(controller.activePath).toBe(N); // §9.3: it still follows the peer
    expect(controller.pathStatus(N.key)?.hasPeerCid).toBe(false);
    const sent = transmits(controller, 0);
    expect(sent.every((t) => t.path.key === R.key)).toBe(true);
    expect(controller.nextTimeout()).toBe(100); // R's retransmission; N only contributes its deadline
    cids = 1;
    controller.onPeerCidAvailable();
    expect(controller.pathStatus(N.key)?.hasPeerCid).toBe(true);
    expect(challengesOn(transmits(controller, 0), N)).toHaveLength(1);
  });

  it('bounds the number of paths, keeping the active and fallback paths', () => {
    const controller = server({ maxPaths: 3 });
    for (let i = 0; i < 6; i++) {
      const p = path('203.0.113.' + String(i + 1), 7000, '198.51.100.1', 443);
      controller.onDatagram({ path: p, bytes: 100, now: i, packetNumber: i + 1, nonProbing: false });
    }
    const kept = controller.paths();
    expect(kept).toHaveLength(3);
    expect(kept[0]!.path).toBe(R);
    const discarded = events(controller).filter((e) => e.type === 'path-discarded');
    expect(discarded).toHaveLength(4); // six new paths, room for two
    expect(kept.slice(1).map((s) => s.path.remoteAddress)).toEqual(['203.0.113.5', '203.0.113.6']);
  });

  describe('PATH_RESPONSE matching', () => {
    it('ignores unknown responses by default and reports stale ones', () => {
      const controller = server();
      expect(controller.onPathResponse(new Uint8Array(8).fill(9), 0)).toBe('unknown');
    });

    it('rejects a response to a challenge never sent with PROTOCOL_VIOLATION when asked to (§19.18)', () => {
      const controller = server({ rejectUnknownPathResponse: true });
      controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
      const sent = transmits(controller, 0);
      // A response for a path the controller has since forgotten is stale, not a violation.
      controller.onTimeout(10_000);
      expect(controller.onPathResponse(challengesOn(sent, N)[0]!, 10_001)).toBe('stale');
      try {
        controller.onPathResponse(new Uint8Array(8).fill(0xab), 10_002);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(QuicCodecError);
        expect((error as QuicCodecError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
        expect((error as QuicCodecError).frameType).toBe(FrameType.PATH_RESPONSE);
      }
    });

    it('rejects malformed response data with FRAME_ENCODING_ERROR', () => {
      const controller = server();
      expect(() => controller.onPathResponse(new Uint8Array(3), 0)).toThrow(QuicCodecError);
    });
  });

  describe('programmer errors', () => {
    it('throws PathConfigError for untracked paths, bad options and a server trying to migrate', () => {
      const controller = server();
      expect(() => controller.onPathChallenge('nowhere', new Uint8Array(8))).toThrow(PathConfigError);
      expect(() => controller.onDatagramSent('nowhere', 1)).toThrow(PathConfigError);
      expect(() => controller.migrate(N, 0)).toThrow(PathConfigError);
      expect(() => controller.probe(N, 0)).toThrow(PathConfigError);
      expect(() => controller.onDatagram({ path: R, bytes: -1, now: 0 })).toThrow(PathConfigError);
      expect(() => controller.onDatagram({ path: R, bytes: 1, now: 0, packetNumber: -1 })).toThrow(PathConfigError);
      expect(() => controller.setPto(0)).toThrow(PathConfigError);
      expect(
        () => new MigrationController({ role: 'peer' as 'client', initialPath: R }),
      ).toThrow(PathConfigError);
      expect(() => new MigrationController({ role: 'server', initialPath: R, maxPaths: 2 })).toThrow(PathConfigError);
      expect(
        () => new MigrationController({ role: 'server', initialPath: { ...R, remotePort: 70000 } }),
      ).toThrow(PathConfigError);
      expect(
        () => new MigrationController({ role: 'server', initialPath: R, onDisabledMigration: 'ignore' as 'drop' }),
      ).toThrow(PathConfigError);
    });
  });

  it('carries its multipath path ID in events and transmits', () => {
    const controller = server({ pathId: 4 });
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    expect(events(controller)[0]).toMatchObject({ type: 'active-path-changed', pathId: 4 });
    expect(transmits(controller, 0).every((t) => t.pathId === 4)).toBe(true);
  });

  it('uses the updated PTO for later validations', () => {
    const controller = server();
    controller.setPto(2000);
    controller.onDatagram({ path: N, bytes: 1200, now: 0, packetNumber: 1, nonProbing: true });
    transmits(controller, 0);
    controller.onTimeout(5999);
    expect(controller.activePath).toBe(N);
    controller.onTimeout(6000);
    expect(events(controller).some((e) => e.type === 'no-viable-path')).toBe(true);
  });
});
