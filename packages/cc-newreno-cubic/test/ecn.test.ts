import { describe, expect, it } from 'vitest';
import { ECN_TESTING_PACKETS, ECN_TESTING_PTOS, EcnValidator } from '../src/ecn.js';
import type { EcnCounts } from '../src/ecn.js';

const inc = { largestAckedIncreased: true };
const counts = (ect0: number, ect1 = 0, ce = 0): EcnCounts => ({ ect0, ect1, ce });

/** Sends `n` packets in the application space with whatever the validator says to mark. */
function sendMarked(v: EcnValidator, n: number, now = 0, pto?: number): number {
  let marked = 0;
  for (let i = 0; i < n; i++) {
    const m = v.marking(now, pto);
    if (m !== 'not-ect') marked += 1;
    v.onPacketSent('application', m, now);
  }
  return marked;
}

describe('EcnValidator (RFC 9000 §13.4.2, App. A.4)', () => {
  it('marks the first ten packets with ECT(0), then stops while the outcome is unknown', () => {
    expect(ECN_TESTING_PACKETS).toBe(10);
    expect(ECN_TESTING_PTOS).toBe(3);
    const v = new EcnValidator();
    expect(v.state).toBe('testing');
    expect(v.marking(0)).toBe('ect0');
    expect(sendMarked(v, 15)).toBe(10);
    expect(v.state).toBe('unknown');
    expect(v.marking(1)).toBe('not-ect');
    expect(v.sentCounts('application')).toEqual({ ect0: 10, ect1: 0 });
  });

  it('ends testing after three PTOs from the first marked packet', () => {
    const v = new EcnValidator();
    sendMarked(v, 2, 100, 200);
    expect(v.marking(699, 200)).toBe('ect0');
    expect(v.marking(700, 200)).toBe('not-ect');
    expect(v.state).toBe('unknown');
  });

  it('becomes capable on a validated ACK in the unknown state, and marks again', () => {
    const v = new EcnValidator();
    sendMarked(v, 10);
    const out = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 4, newlyAckedEct1: 0 }, counts(4), 10);
    expect(out).toEqual({ ceIncreased: false, ceDelta: 0, failed: false, state: 'capable' });
    expect(v.marking(11)).toBe('ect0');
  });

  it('stays in testing on validated ACKs during the testing period (App. A.4)', () => {
    const v = new EcnValidator();
    sendMarked(v, 3);
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 3, newlyAckedEct1: 0 }, counts(3), 10);
    expect(v.state).toBe('testing');
    sendMarked(v, 7);
    expect(v.state).toBe('unknown');
    // A later ACK with nothing marked newly acked still validates; marked packets were acked in this round.
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 0, newlyAckedEct1: 0 }, counts(3), 20);
    expect(v.state).toBe('capable');
  });

  it('reports validated CE increases (a congestion signal)', () => {
    const v = new EcnValidator();
    sendMarked(v, 10);
    const out = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 3, newlyAckedEct1: 0 }, counts(2, 0, 1), 1);
    expect(out.ceIncreased).toBe(true);
    expect(out.ceDelta).toBe(1);
    expect(v.state).toBe('capable');
    const again = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 1, newlyAckedEct1: 0 }, counts(3, 0, 1), 2);
    expect(again.ceIncreased).toBe(false);
    expect(v.lastCounts('application')).toEqual(counts(3, 0, 1));
  });

  it('fails when ECT packets are newly acked by an ACK without ECN counts', () => {
    const v = new EcnValidator();
    sendMarked(v, 2);
    const out = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 1, newlyAckedEct1: 0 }, undefined, 1);
    expect(out.failed).toBe(true);
    expect(v.state).toBe('failed');
    expect(v.failureReason).toBe('missing-counts');
    expect(v.marking(2)).toBe('not-ect');
  });

  it('an ACK without counts that acknowledges only unmarked packets is fine', () => {
    const v = new EcnValidator();
    v.onPacketSent('application', 'not-ect', 0);
    const out = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 0, newlyAckedEct1: 0 }, undefined, 1);
    expect(out.failed).toBe(false);
    expect(v.state).toBe('testing');
  });

  it('fails when ECT(0) + CE increase is below the newly acked ECT(0) packets (remarking)', () => {
    const v = new EcnValidator();
    sendMarked(v, 3);
    const out = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 3, newlyAckedEct1: 0 }, counts(1, 0, 1), 1);
    expect(out.failed).toBe(true);
    expect(v.failureReason).toBe('remarked');
  });

  it('fails the ECT(1) check the same way', () => {
    const v = new EcnValidator({ codepoint: 'ect1' });
    expect(v.marking(0)).toBe('ect1');
    for (let i = 0; i < 2; i++) v.onPacketSent('application', v.marking(0), 0);
    const out = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 0, newlyAckedEct1: 2 }, counts(0, 1, 0), 1);
    expect(out.failed).toBe(true);
  });

  it('fails when a count exceeds the packets sent with that codepoint (incl. a codepoint never used)', () => {
    const v = new EcnValidator();
    sendMarked(v, 2);
    expect(
      v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 2, newlyAckedEct1: 0 }, counts(3), 1).failed,
    ).toBe(true);
    expect(v.failureReason).toBe('exceeds-sent');
    const w = new EcnValidator();
    sendMarked(w, 2);
    w.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 2, newlyAckedEct1: 0 }, counts(2, 1), 1);
    expect(w.failureReason).toBe('exceeds-sent');
  });

  it('fails when counts decrease', () => {
    const v = new EcnValidator();
    sendMarked(v, 4);
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 2, newlyAckedEct1: 0 }, counts(2), 1);
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 1, newlyAckedEct1: 0 }, counts(1, 0, 1), 2);
    expect(v.failureReason).toBe('decreased');
  });

  it('never fails on an ACK that does not raise the largest acknowledged (reordering)', () => {
    const v = new EcnValidator();
    sendMarked(v, 4);
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 2, newlyAckedEct1: 0 }, counts(2), 1);
    const reordered = { largestAckedIncreased: false, newlyAckedEct0: 1, newlyAckedEct1: 0 };
    expect(v.onAckEcnCounts('application', reordered, counts(1), 2).failed).toBe(false);
    expect(v.onAckEcnCounts('application', reordered, undefined, 2).failed).toBe(false);
    expect(v.onAckEcnCounts('application', reordered, counts(9), 2).failed).toBe(false);
    expect(v.state).toBe('testing');
    expect(v.lastCounts('application')).toEqual(counts(2)); // skipped, baseline unchanged
    // A valid reordered ACK is still used.
    expect(v.onAckEcnCounts('application', reordered, counts(2, 0, 1), 3).ceIncreased).toBe(true);
  });

  it('keeps ECN counts per packet-number space (RFC 9000 §13.4.1)', () => {
    const v = new EcnValidator();
    v.onPacketSent('initial', 'ect0', 0);
    v.onPacketSent('handshake', 'ect0', 0);
    v.onPacketSent('handshake', 'ect0', 0);
    v.onAckEcnCounts('initial', { ...inc, newlyAckedEct0: 1, newlyAckedEct1: 0 }, counts(1), 1);
    // Handshake counts start from zero, not from the Initial ones.
    const out = v.onAckEcnCounts('handshake', { ...inc, newlyAckedEct0: 2, newlyAckedEct1: 0 }, counts(2), 1);
    expect(out.failed).toBe(false);
    expect(v.onAckEcnCounts('initial', { ...inc, newlyAckedEct0: 0, newlyAckedEct1: 0 }, counts(2), 2).failed).toBe(
      true,
    ); // only one ECT(0) Initial packet was ever sent
  });

  it('fails when every marked packet of the test was lost', () => {
    const v = new EcnValidator();
    sendMarked(v, 10);
    v.onPacketsLost(9, 0);
    expect(v.state).toBe('unknown');
    v.onPacketsLost(1, 0);
    expect(v.state).toBe('failed');
    expect(v.failureReason).toBe('all-lost');
  });

  it('fails when every marked packet that arrived was CE-marked', () => {
    const v = new EcnValidator();
    sendMarked(v, 10);
    const out = v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 3, newlyAckedEct1: 0 }, counts(0, 0, 3), 1);
    expect(out.failed).toBe(true);
    expect(v.failureReason).toBe('all-ce');
  });

  it('can be disabled, started disabled, and restarted with the last counts as baseline', () => {
    const v = new EcnValidator({ enabled: false });
    expect(v.state).toBe('failed');
    expect(v.marking(0)).toBe('not-ect');
    v.restart();
    expect(v.state).toBe('testing');
    sendMarked(v, 10);
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 10, newlyAckedEct1: 0 }, counts(10), 1);
    expect(v.state).toBe('capable');
    v.disable();
    expect(v.failureReason).toBe('disabled');
    // While failed, valid counts keep the baseline current.
    v.onPacketSent('application', 'not-ect', 2);
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 0, newlyAckedEct1: 0 }, counts(10, 0, 0), 3);
    v.restart();
    expect(v.roundStats).toEqual({ sent: 0, acked: 0, lost: 0 });
    sendMarked(v, 10);
    v.onAckEcnCounts('application', { ...inc, newlyAckedEct0: 5, newlyAckedEct1: 0 }, counts(15), 4);
    expect(v.state).toBe('capable');
  });
});
