import { describe, expect, it } from 'vitest';
import {
  createCongestionController,
  CUBIC_ALPHA,
  CUBIC_BETA,
  CUBIC_C,
  CubicController,
} from '../src/congestion.js';
import type { RttSnapshot } from '../src/congestion.js';
import type { SentPacket } from '../src/types.js';
import { RttEstimator } from '../src/rtt.js';

const rtt = (ms = 100): RttSnapshot => ({
  latestRtt: ms,
  minRtt: ms,
  smoothedRtt: ms,
  rttvar: ms / 2,
  hasSample: true,
});

const pkt = (packetNumber: number, timeSent: number, bytes = 1000) => ({ packetNumber, timeSent, bytes });

/** mds = 1000 so that windows read as segments × 1000; cwnd starts at 100 segments. */
function cubic(fastConvergence = true, initialWindow = 100_000): CubicController {
  return new CubicController({ maxDatagramSize: 1000, initialWindow, hystart: false, fastConvergence });
}

/** A CUBIC after one loss at t = 1000 ms with cwnd = 100 segments: W_max = 100, cwnd = 70 segments. */
function afterLoss(fastConvergence = true): CubicController {
  const cc = cubic(fastConvergence);
  cc.onPacketSent(1000, 500, 0);
  cc.onPacketsLost([pkt(0, 500)], 1000);
  return cc;
}

describe('CUBIC constants (RFC 9438)', () => {
  it('C, beta, alpha = 3(1-b)/(1+b) = 9/17', () => {
    expect(CUBIC_C).toBe(0.4);
    expect(CUBIC_BETA).toBe(0.7);
    expect(CUBIC_ALPHA).toBeCloseTo(9 / 17, 15);
    expect(CUBIC_ALPHA).toBeCloseTo(0.5294117647, 9);
    const cc = createCongestionController('cubic');
    expect(cc.name).toBe('cubic');
    expect(cc.window).toBe(12_000);
  });
});

describe('CUBIC multiplicative decrease (§4.6) and K / W_cubic (§4.2)', () => {
  it('ssthresh = 0.7·cwnd after a loss; W_max = cwnd before the reduction', () => {
    const cc = afterLoss();
    expect(cc.ssthresh).toBe(70_000);
    expect(cc.window).toBe(70_000);
    expect(cc.wMax).toBe(100_000);
    expect(cc.cwndPrior).toBe(100_000);
    expect(cc.epochStart).toBeUndefined();
    expect(cc.inRecovery).toBe(true);
  });

  it('K = cbrt((W_max - cwnd_epoch)/C) = cbrt(75) s and W_cubic(t) at several t', () => {
    const cc = afterLoss();
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100)); // first growing ACK: the epoch starts
    expect(cc.epochStart).toBe(1100);
    expect(cc.cwndEpoch).toBe(70_000);
    expect(cc.inRecovery).toBe(false);
    // K = cbrt(30 segments / 0.4) = cbrt(75) = 4.217163326508746 s
    expect(cc.k).toBeCloseTo(4.217163326508746, 12);
    // W_cubic(t) = 0.4·(t − K)³ + 100 segments
    expect(cc.wCubic(0)).toBeCloseTo(70_000, 6); // = cwnd_epoch
    expect(cc.wCubic(1)).toBeCloseTo(86_680.76383512988, 6); // 0.4·(−3.21716)³ = −13.319 seg
    expect(cc.wCubic(2)).toBeCloseTo(95_640.33568663878, 6); // 0.4·(−2.21716)³ = −4.360 seg
    expect(cc.wCubic(cc.k)).toBeCloseTo(100_000, 6); // plateau at W_max
    expect(cc.wCubic(5)).toBeCloseTo(100_191.8993394395, 6); // convex: 0.4·0.78284³ = 0.192 seg
    expect(cc.wCubic(6)).toBeCloseTo(102_266.70325646443, 6); // 0.4·1.78284³ = 2.267 seg
  });

  it('first CA ACK is Reno-friendly: W_est = 70 + (9/17)·1/70 segments exceeds W_cubic(0)', () => {
    const cc = afterLoss();
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100));
    expect(cc.wEst).toBeCloseTo(70_007.56302521008, 8); // 70 000 + (9/17)·1000·1000/70 000
    expect(cc.window).toBeCloseTo(70_007.56302521008, 8);
  });

  it('concave region: cwnd += (target - cwnd)·acked/cwnd with target = W_cubic(t + RTT)', () => {
    const cc = afterLoss();
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100));
    const cwnd1 = cc.window; // 70 007.563
    cc.onPacketSent(1000, 3000, 2);
    cc.onPacketsAcked([pkt(2, 3000)], 3100, rtt(100)); // t = 2 s, RTT = 0.1 s
    // target = W_cubic(2.1) = 96 204.027 (inside [cwnd, 1.5·cwnd]); W_cubic(2) = 95 640 > W_est = 70 015.1
    expect(cc.wEst).toBeCloseTo(70_015.12523337487, 8);
    expect(cc.window).toBeCloseTo(cwnd1 + ((96_204.02731269051 - cwnd1) * 1000) / cwnd1, 6);
    expect(cc.window).toBeCloseTo(70_381.75780010957, 6);
  });

  it('target is clamped to 1.5·cwnd far in the convex region', () => {
    const cc = afterLoss();
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100));
    const cwnd1 = cc.window;
    cc.onPacketSent(70_000, 60_000, 2);
    // t = 60 s: W_cubic is ~ 0.4·55.8³ ≈ 69 500 segments ≫ 1.5·cwnd.
    cc.onPacketsAcked([pkt(2, 60_000, 70_000)], 61_100, rtt(100));
    // cwnd += (1.5·cwnd − cwnd)·acked/cwnd = 0.5·acked
    expect(cc.window).toBeCloseTo(cwnd1 + 0.5 * 70_000, 6);
  });

  it('never grows while application-limited, and app-limited time is excluded from t (§5.8)', () => {
    const cc = afterLoss();
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100));
    const w = cc.window;
    cc.setAppLimited(true, 1200);
    cc.onPacketSent(1000, 1300, 2);
    cc.onPacketsAcked([pkt(2, 1300)], 1400, rtt(100));
    expect(cc.window).toBe(w);
    expect(cc.wEst).toBeCloseTo(70_007.56302521008, 8);
    cc.setAppLimited(false, 1700);
    expect(cc.epochStart).toBe(1600); // shifted by the 500 ms limited period
  });

  it('ECN-CE reduces by beta without a loss and cannot be undone', () => {
    const cc = cubic();
    cc.onPacketSent(1000, 10, 0);
    cc.onEcnCe(10, 100);
    expect(cc.window).toBe(70_000);
    expect(cc.ssthresh).toBe(70_000);
    expect(cc.bytesInFlight).toBe(1000);
    expect(cc.onSpuriousLoss(200)).toBe(false);
  });

  it('floors cwnd and ssthresh at the minimum window', () => {
    const cc = cubic(true, 2500);
    cc.onPacketSent(1000, 0, 0);
    cc.onPacketsLost([pkt(0, 0)], 10);
    expect(cc.ssthresh).toBe(2000);
    expect(cc.window).toBe(2000);
    cc.onPacketSent(1000, 20, 1);
    cc.onPacketsLost([pkt(1, 20)], 30);
    expect(cc.window).toBe(2000);
  });
});

describe('CUBIC fast convergence (§4.7)', () => {
  it('W_max = cwnd·(1+β)/2 when a loss hits below the previous W_max', () => {
    const cc = afterLoss(true);
    cc.onPacketSent(1000, 1500, 1);
    cc.onPacketsLost([pkt(1, 1500)], 2000); // cwnd = 70 000 < W_max = 100 000
    expect(cc.wMax).toBeCloseTo(59_500, 9); // 70 000 · 0.85
    expect(cc.ssthresh).toBeCloseTo(49_000, 9);
    expect(cc.window).toBeCloseTo(49_000, 9);
    expect(cc.cwndPrior).toBe(70_000);
  });

  it('W_max = cwnd when fast convergence is off', () => {
    const cc = afterLoss(false);
    cc.onPacketSent(1000, 1500, 1);
    cc.onPacketsLost([pkt(1, 1500)], 2000);
    expect(cc.wMax).toBe(70_000);
    expect(cc.window).toBeCloseTo(49_000, 9);
  });

  it('W_max = cwnd when cwnd is above the previous W_max', () => {
    const cc = afterLoss(true);
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100)); // the epoch starts
    cc.onPacketSent(70_000, 60_000, 2);
    cc.onPacketsAcked([pkt(2, 60_000, 70_000)], 61_100, rtt(100)); // 60 s later: far convex
    const w = cc.window;
    expect(w).toBeGreaterThan(100_000);
    cc.onPacketSent(1000, 61_200, 3);
    cc.onPacketsLost([pkt(3, 61_200)], 61_300);
    expect(cc.wMax).toBe(w);
  });
});

describe('CUBIC Reno-friendly region (§4.3)', () => {
  it('W_est grows by alpha·acked·mds/cwnd, then by 1·acked·mds/cwnd once it reaches cwnd_prior', () => {
    const cc = afterLoss();
    // Every ACK at the epoch start (t = 0): W_cubic(0) = cwnd_epoch, so the Reno estimate drives cwnd.
    let pn = 1;
    const ack = (bytes: number): void => {
      cc.onPacketSent(bytes, 1001, pn);
      cc.onPacketsAcked([pkt(pn, 1001, bytes)], 1100, rtt(100));
      pn++;
    };
    ack(1000);
    let prevEst = cc.wEst;
    let prevCwnd = cc.window;
    expect(prevEst).toBeCloseTo(70_000 + (CUBIC_ALPHA * 1000 * 1000) / 70_000, 8);
    while (cc.wEst < cc.cwndPrior) {
      prevEst = cc.wEst;
      prevCwnd = cc.window;
      ack(10_000);
      expect(cc.wEst).toBeCloseTo(prevEst + (CUBIC_ALPHA * 10_000 * 1000) / prevCwnd, 6);
      expect(cc.window).toBe(cc.wEst);
    }
    // Now W_est >= cwnd_prior = 100 000: alpha = 1.
    prevEst = cc.wEst;
    prevCwnd = cc.window;
    ack(10_000);
    expect(cc.wEst).toBeCloseTo(prevEst + (10_000 * 1000) / prevCwnd, 6);
  });
});

describe('CUBIC after persistent congestion (§4.8) and HyStart++ exit (§4.10)', () => {
  it('persistent congestion: min window, slow start to ssthresh, then K = 0 and W_max = cwnd_epoch', () => {
    const cc = cubic();
    cc.onPacketSent(1000, 0, 0);
    cc.onPacketSent(1000, 10, 1);
    cc.onPacketsLost([pkt(0, 0), pkt(1, 10)], 3000);
    cc.onPersistentCongestion(3000);
    expect(cc.window).toBe(2000);
    expect(cc.ssthresh).toBe(70_000);
    expect(cc.inSlowStart).toBe(true);
    let pn = 2;
    let now = 3000;
    while (cc.inSlowStart) {
      const bytes = cc.window;
      cc.onPacketSent(bytes, now, pn);
      now += 100;
      cc.onPacketsAcked([pkt(pn, now - 100, bytes)], now, rtt(100));
      pn++;
    }
    expect(cc.epochStart).toBeUndefined();
    const w = cc.window;
    cc.onPacketSent(1000, now, pn);
    cc.onPacketsAcked([pkt(pn, now, 1000)], now + 100, rtt(100));
    expect(cc.epochStart).toBe(now + 100);
    expect(cc.wMax).toBe(w);
    expect(cc.cwndEpoch).toBe(w);
    expect(cc.k).toBe(0);
  });

  it('HyStart++ exit sets ssthresh = cwnd_prior = W_max = W_est = cwnd, K = 0, epoch = now', () => {
    const cc = new CubicController({ maxDatagramSize: 1000, initialWindow: 10_000, paced: true });
    let pn = 0;
    let now = 0;
    // Drive rounds: each round sends a window and acks it packet by packet with the round's RTT.
    const roundRtt = [100, 100, 130, 130, 130, 130, 130, 130, 130];
    for (const r of roundRtt) {
      if (!cc.inSlowStart) break;
      const first = pn;
      const count = Math.floor(cc.window / 1000);
      for (let i = 0; i < count; i++) cc.onPacketSent(1000, now, pn++);
      for (let i = first; i < first + count && cc.inSlowStart; i++) {
        cc.onPacketsAcked([pkt(i, now)], now + r, rtt(r));
      }
      now += r;
    }
    expect(cc.inSlowStart).toBe(false);
    expect(cc.hystart?.inCss).toBe(true);
    expect(cc.ssthresh).toBe(cc.window);
    expect(cc.cwndPrior).toBe(cc.window);
    expect(cc.wMax).toBe(cc.window);
    expect(cc.wEst).toBe(cc.window);
    expect(cc.k).toBe(0);
    expect(cc.epochStart).toBeDefined();
    expect(cc.hystartActive).toBe(false);
  });
});

describe('CUBIC spurious loss undo (§4.9.2)', () => {
  it('restores the state saved before the reduction when cwnd < cwnd_prior', () => {
    const cc = afterLoss();
    expect(cc.window).toBe(70_000);
    expect(cc.onSpuriousLoss(1200)).toBe(true);
    expect(cc.window).toBe(100_000);
    expect(cc.ssthresh).toBe(Infinity);
    expect(cc.wMax).toBe(0);
    expect(cc.cwndPrior).toBe(0);
    expect(cc.inRecovery).toBe(false);
    expect(cc.recoveryStartTime).toBeUndefined();
    expect(cc.onSpuriousLoss(1300)).toBe(false); // only once
  });

  it('restores K, t_epoch and W_est of an ongoing stage', () => {
    const cc = afterLoss();
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100));
    const k = cc.k;
    const west = cc.wEst;
    const w = cc.window;
    cc.onPacketSent(1000, 1200, 2);
    cc.onPacketsLost([pkt(2, 1200)], 1300);
    expect(cc.epochStart).toBeUndefined();
    expect(cc.onSpuriousLoss(1400)).toBe(true);
    expect(cc.k).toBe(k);
    expect(cc.wEst).toBe(west);
    expect(cc.window).toBe(w);
    expect(cc.epochStart).toBe(1100);
    expect(cc.wMax).toBe(100_000);
    expect(cc.cwndPrior).toBe(100_000);
    expect(cc.recoveryStartTime).toBe(1000);
  });

  it('does not undo once cwnd has regrown past cwnd_prior', () => {
    const cc = afterLoss();
    cc.onPacketSent(1000, 1001, 1);
    cc.onPacketsAcked([pkt(1, 1001)], 1100, rtt(100));
    cc.onPacketSent(70_000, 60_000, 2);
    cc.onPacketsAcked([pkt(2, 60_000, 70_000)], 61_100, rtt(100));
    expect(cc.window).toBeGreaterThan(100_000);
    expect(cc.onSpuriousLoss(61_200)).toBe(false);
  });
});

describe('CUBIC with the package types', () => {
  it('accepts an RttEstimator and SentPacket records directly', () => {
    const cc = afterLoss();
    const est = new RttEstimator();
    est.update(100, 0, true, 25);
    const sent: SentPacket = { packetNumber: 1, timeSent: 1001, bytes: 1000, ackEliciting: true, inFlight: true };
    cc.onPacketSent(sent.bytes, sent.timeSent, sent.packetNumber);
    cc.onPacketsAcked([sent], 1101, est);
    expect(cc.epochStart).toBe(1101);
    expect(cc.window).toBeCloseTo(70_007.56302521008, 8);
    expect(cc.bytesInFlight).toBe(0);
  });
});
