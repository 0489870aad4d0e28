// Scenarios of issue 5 over @pathquic/netsim: one or more bulk flows through a bottleneck with a drop-tail queue.
import { Link, Simulator, bdpBytes, jainIndex } from '@pathquic/netsim';
import type { CongestionControlAlgorithm } from '../src/index.js';
import { BulkReceiver, BulkSender, type AckPacket, type DataPacket } from './bulk-flow.js';

export interface ScenarioOptions {
  readonly flows: readonly {
    algorithm: CongestionControlAlgorithm;
    hystart?: boolean;
    paced?: boolean;
    pacingGain?: number;
    startAt?: number;
  }[];
  readonly bandwidth?: number; // bit/s
  readonly rtt?: number; // ms, base round trip
  readonly bufferBdp?: number; // queue limit in bandwidth-delay products
  readonly loss?: number;
  /** Per-packet extra delay drawn from [0, jitter) ms on the bottleneck (never reorders). */
  readonly jitter?: number;
  readonly duration?: number; // ms
  readonly seed?: number;
  /** Record each sender's window after every ACK for this long (ms). */
  readonly traceMs?: number;
}

export interface FlowResult {
  readonly algorithm: CongestionControlAlgorithm;
  readonly goodputBps: number;
  readonly lostPackets: number;
  readonly lostInInitialSlowStart: number;
  readonly slowStartExitAt: number | undefined;
  readonly finalWindow: number;
  readonly sender: BulkSender;
  readonly receiver: BulkReceiver;
}

export interface ScenarioResult {
  readonly flows: FlowResult[];
  /** Bottleneck bytes delivered over [from, duration] / capacity. */
  utilisation(fromMs: number): number;
  /** Jain's index of the flows' goodput over [from, duration]. */
  fairness(fromMs: number): number;
  readonly queueDrops: number;
  readonly randomDrops: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
}

export function runScenario(o: ScenarioOptions): ScenarioResult {
  const bandwidth = o.bandwidth ?? 100e6;
  const rtt = o.rtt ?? 40;
  const duration = o.duration ?? 60_000;
  const sim = new Simulator({ seed: o.seed ?? 1 });
  const receivers: BulkReceiver[] = [];
  const senders: BulkSender[] = [];
  // Bottleneck: delivered-bytes series per 100 ms for utilisation over a window.
  const bucket = 100;
  const wire: number[] = [];
  const forward = new Link<DataPacket>(sim, {
    name: 'bottleneck',
    bandwidth,
    delay: rtt / 2,
    queueLimit: (o.bufferBdp ?? 1) * bdpBytes(bandwidth, rtt),
    loss: o.loss ?? 0,
    jitter: o.jitter ?? 0,
    deliver: (p, now) => {
      const i = Math.floor(now / bucket);
      wire[i] = (wire[i] ?? 0) + p.size;
      receivers[p.flow]!.onPacket(p, now);
    },
  });
  const back = new Link<AckPacket>(sim, {
    name: 'ack path',
    bandwidth: 1e9,
    delay: rtt / 2,
    deliver: (a, now) => senders[a.flow]!.onAck(a.ack, now),
  });
  o.flows.forEach((f, i) => {
    receivers.push(new BulkReceiver(sim, back, i));
    const sender = new BulkSender(sim, forward, { flow: i, ...f });
    sender.traceMs = o.traceMs ?? 0;
    senders.push(sender);
  });
  const t0 = performance.now();
  sim.run(duration);
  const wallMs = performance.now() - t0;
  const capacity = bandwidth / 8; // bytes per second
  return {
    flows: senders.map((s, i) => ({
      algorithm: s.options.algorithm,
      goodputBps: (receivers[i]!.bytesBetween(0, duration) * 8 * 1000) / duration,
      lostPackets: s.lostPackets,
      lostInInitialSlowStart: s.lostInInitialSlowStart,
      slowStartExitAt: s.slowStartExitAt,
      finalWindow: s.cc.window,
      sender: s,
      receiver: receivers[i]!,
    })),
    utilisation(fromMs: number): number {
      let bytes = 0;
      for (let i = Math.floor(fromMs / bucket); i < Math.ceil(duration / bucket); i++) bytes += wire[i] ?? 0;
      return bytes / ((capacity * (duration - fromMs)) / 1000);
    },
    fairness(fromMs: number): number {
      return jainIndex(receivers.map((r) => r.bytesBetween(fromMs, duration)));
    },
    queueDrops: forward.stats.droppedQueue ?? 0,
    randomDrops: forward.stats.droppedRandom ?? 0,
    simulatedMs: duration,
    wallMs,
  };
}
