import { describe, expect, it } from 'vitest';
import { MigrationController } from '../src/index.js';
import type { MigrationControllerOptions, MigrationEvent, ProbeTransmit } from '../src/index.js';
import { counterRandom, drain, path } from './helpers.js';

const H = path('198.51.100.1', 443, '10.0.0.2', 5000); // handshake path: client wifi → server
const L = path('198.51.100.1', 443, '172.16.0.9', 6000); // client's cellular interface → same server address
const LP = path('198.51.100.1', 443, '10.0.0.2', 5002); // same local IP, new local port
const P = path('198.51.100.99', 8443, '10.0.0.2', 5000); // server's preferred address

function client(options: Partial<MigrationControllerOptions> = {}): MigrationController {
  const controller = new MigrationController({
    role: 'client',
    initialPath: H,
    random: counterRandom(),
    pto: 100,
    maxAckDelay: 0,
    ...options,
  });
  controller.onHandshakeConfirmed();
  return controller;
}

const events = (c: MigrationController): MigrationEvent[] => drain(() => c.pollEvent());
const transmits = (c: MigrationController, now: number): ProbeTransmit[] => drain(() => c.pollTransmit(now));

describe('MigrationController, client side (RFC 9000 §9.2)', () => {
  it('starts validated on its handshake path: no amplification limit towards the server', () => {
    const controller = new MigrationController({ role: 'client', initialPath: H });
    expect(controller.allowance()).toBe(Number.POSITIVE_INFINITY);
    expect(controller.pathStatus(H.key)).toMatchObject({ active: true, validated: true, hasPeerCid: true });
  });

  it('refuses to migrate or probe before the handshake is confirmed (§9)', () => {
    const controller = new MigrationController({ role: 'client', initialPath: H });
    expect(controller.migrate(L, 0)).toEqual({ ok: false, reason: 'handshake-not-confirmed' });
    expect(controller.probe(L, 0)).toEqual({ ok: false, reason: 'handshake-not-confirmed' });
    expect(controller.paths()).toHaveLength(1);
  });

  it('migrates to a new local address at once and validates it with full-size challenges', () => {
    const controller = client();
    expect(controller.migrate(L, 1000)).toEqual({ ok: true });
    expect(controller.activePath).toBe(L);
    expect(events(controller)).toEqual([
      { type: 'active-path-changed', pathId: 0, from: H, to: L, reason: 'local-migration', congestion: 'reset' },
      { type: 'path-validation-started', pathId: 0, path: L, purpose: 'local-migration' },
    ]);
    const [tx] = transmits(controller, 1000);
    expect(tx!.path).toBe(L);
    expect(tx!.padTo).toBe(1200); // the client chose the server's address: no amplification limit
    expect(controller.onPathResponse(tx!.frames[0]!.data, 1050)).toBe('validated');
    expect(events(controller)).toEqual([{ type: 'path-validated', pathId: 0, path: L, mtuValidated: true, rtt: 50 }]);
  });

  it('keeps congestion state when only its local port changes (§9.4)', () => {
    const controller = client();
    controller.migrate(LP, 0);
    expect(events(controller)[0]).toMatchObject({ reason: 'local-migration', congestion: 'keep' });
  });

  it('falls back to the old path when the new one never answers', () => {
    const controller = client();
    controller.migrate(L, 0);
    events(controller);
    transmits(controller, 0);
    controller.onTimeout(2997);
    expect(events(controller)).toEqual([
      { type: 'path-validation-failed', pathId: 0, path: L, reason: 'timeout' },
      { type: 'active-path-changed', pathId: 0, from: L, to: H, reason: 'fallback', congestion: 'restore' },
      { type: 'path-discarded', pathId: 0, path: L },
    ]);
    expect(controller.activePath).toBe(H);
  });

  it('probes first and then migrates without another validation, restoring the probed path state', () => {
    const controller = client();
    expect(controller.probe(L, 0)).toEqual({ ok: true });
    expect(controller.activePath).toBe(H);
    const [tx] = transmits(controller, 0);
    controller.onPathResponse(tx!.frames[0]!.data, 40);
    expect(events(controller)).toEqual([
      { type: 'path-validation-started', pathId: 0, path: L, purpose: 'probe' },
      { type: 'path-validated', pathId: 0, path: L, mtuValidated: true, rtt: 40 },
    ]);
    expect(controller.pathStatus(L.key)!.validationRtt).toBe(40);
    expect(controller.migrate(L, 50)).toEqual({ ok: true });
    expect(events(controller)).toEqual([
      { type: 'active-path-changed', pathId: 0, from: H, to: L, reason: 'local-migration', congestion: 'restore' },
    ]);
    expect(transmits(controller, 50)).toEqual([]);
    expect(controller.migrate(L, 60)).toEqual({ ok: false, reason: 'already-active' });
  });

  it('respects the peer’s disable_active_migration, including probes (§9)', () => {
    const controller = client();
    controller.onPeerTransportParameters({ disableActiveMigration: true });
    expect(controller.migrate(L, 0)).toEqual({ ok: false, reason: 'peer-disabled-active-migration' });
    expect(controller.probe(L, 0)).toEqual({ ok: false, reason: 'peer-disabled-active-migration' });
    expect(controller.paths()).toHaveLength(1);
  });

  it('may still move to the server’s preferred address, and migrate freely after acting on it (§9, §9.6)', () => {
    const controller = client();
    controller.onPeerTransportParameters({ disableActiveMigration: true });
    expect(controller.probe(P, 0)).toEqual({ ok: true });
    const [tx] = transmits(controller, 0);
    controller.onPathResponse(tx!.frames[0]!.data, 30);
    expect(controller.migrate(P, 40, { preferredAddress: true })).toEqual({ ok: true });
    expect(controller.activePath).toBe(P);
    const L2 = path('198.51.100.99', 8443, '172.16.0.9', 6000);
    expect(controller.migrate(L2, 50)).toEqual({ ok: true });
  });

  it('refuses when no unused peer connection ID is available (§9.5)', () => {
    const offered: string[] = [];
    const controller = client({
      acquirePeerCid: (p) => {
        offered.push(p.key);
        return false;
      },
    });
    expect(controller.migrate(L, 0)).toEqual({ ok: false, reason: 'no-peer-cid' });
    expect(controller.probe(L, 0)).toEqual({ ok: false, reason: 'no-peer-cid' });
    expect(offered).toEqual([L.key, L.key]);
    expect(controller.paths()).toHaveLength(1);
  });

  it('drops datagrams from a server address it does not know (§9)', () => {
    const controller = client();
    const stranger = path('192.0.2.66', 443, '10.0.0.2', 5000);
    expect(controller.onDatagram({ path: stranger, bytes: 1200, now: 0, packetNumber: 9, nonProbing: true })).toBe(
      'unknown-server-address',
    );
    expect(controller.onDatagram({ path: H, bytes: 1200, now: 0, packetNumber: 9, nonProbing: true })).toBe('process');
  });

  it('never follows the server to another path on received packets', () => {
    const controller = client();
    controller.probe(L, 0);
    expect(controller.onDatagram({ path: L, bytes: 1200, now: 1, packetNumber: 50, nonProbing: true })).toBe('process');
    expect(controller.activePath).toBe(H);
  });

  it('answers a server challenge on its active path with a non-probing packet (§9.3.3)', () => {
    const controller = client();
    controller.onPathChallenge(H.key, new Uint8Array(8).fill(3));
    const [tx] = transmits(controller, 0);
    expect(tx!.elicitNonProbing).toBe(true);
    expect(tx!.frames[0]).toEqual({ type: 'path_response', data: new Uint8Array(8).fill(3) });
  });

  it('abandons a probe when it migrates elsewhere (§8.2.4)', () => {
    const controller = client();
    controller.probe(P, 0);
    controller.migrate(L, 10);
    expect(events(controller)).toContainEqual({ type: 'path-discarded', pathId: 0, path: P });
    expect(controller.paths().map((s) => s.path.key)).toEqual([L.key, H.key]);
  });
});
