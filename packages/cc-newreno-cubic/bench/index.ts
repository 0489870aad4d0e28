// Issue 5 figures from the deterministic simulator (tooling/netsim): 100 Mbit/s bottleneck, 40 ms RTT, drop-tail
// buffer of one bandwidth-delay product, 60 simulated seconds, 1200-byte packets, paced senders. Nothing here is a
// wall-clock timing except the simulator speed line.
import { runScenario, type ScenarioOptions } from '../sim/scenario.js';

const DURATION = 60_000;
let simulatedMs = 0;
let wallMs = 0;

function run(o: ScenarioOptions) {
  const r = runScenario({ duration: DURATION, ...o });
  simulatedMs += r.simulatedMs;
  wallMs += r.wallMs;
  return r;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// 1. Link utilisation after the first 5 s.
const cubic = run({ flows: [{ algorithm: 'cubic' }] });
const newreno = run({ flows: [{ algorithm: 'newreno' }] });
console.log(`utilisation over 5-60 s: CUBIC ${cubic.utilisation(5000).toFixed(3)}, NewReno ${newreno.utilisation(5000).toFixed(3)}`);

// 2. 0.1 % random loss: goodput ratio, over three seeds.
const ratios: number[] = [];
for (const seed of [1, 2, 3]) {
  const c = run({ flows: [{ algorithm: 'cubic' }], loss: 0.001, seed });
  const n = run({ flows: [{ algorithm: 'newreno' }], loss: 0.001, seed });
  const ratio = c.flows[0]!.goodputBps / n.flows[0]!.goodputBps;
  ratios.push(ratio);
  console.log(
    `0.1 % loss, seed ${seed}: CUBIC ${(c.flows[0]!.goodputBps / 1e6).toFixed(2)} Mbit/s, NewReno ${(n.flows[0]!.goodputBps / 1e6).toFixed(2)} Mbit/s, ratio ${ratio.toFixed(2)}`,
  );
}

// 3. Two CUBIC flows: Jain's index over the last 30 s. A simulator without any randomness shows the "phase
// effects" of drop-tail queues with deterministic traffic (Floyd & Jacobson, 1992): which flow's packet meets the full
// queue is decided by the pacing phase, not by chance, so one flow keeps losing alone. As is usual in simulation,
// the headline figure adds a noise floor (1e-5 random loss) and takes the median over five seeds; the noise-free
// run is reported too.
const two = run({ flows: [{ algorithm: 'cubic' }, { algorithm: 'cubic' }] });
const jainNoiseFree = two.fairness(DURATION - 30_000);
const jains: number[] = [];
for (const seed of [1, 2, 3, 4, 5]) {
  jains.push(run({ flows: [{ algorithm: 'cubic' }, { algorithm: 'cubic' }], loss: 1e-5, seed }).fairness(DURATION - 30_000));
}
console.log(
  `two CUBIC flows, Jain over the last 30 s: noise-free ${jainNoiseFree.toFixed(3)}; with 1e-5 loss, seeds 1-5: ${jains.map((j) => j.toFixed(3)).join(' ')} (median ${median(jains).toFixed(3)}, min ${Math.min(...jains).toFixed(3)})`,
);

// 4. HyStart++ against plain slow start: packets lost from the initial slow start's overshoot.
const overshoot = (hystart: boolean, bufferBdp: number) =>
  runScenario({ flows: [{ algorithm: 'cubic', hystart }], bufferBdp, duration: 5000 }).flows[0]!.lostInInitialSlowStart;
const ssLoss = { hy1: overshoot(true, 1), plain1: overshoot(false, 1), hy4: overshoot(true, 4), plain4: overshoot(false, 4) };
console.log(
  `initial slow start losses, buffer 1 BDP: HyStart++ ${ssLoss.hy1}, plain ${ssLoss.plain1}; buffer 4 BDP: HyStart++ ${ssLoss.hy4}, plain ${ssLoss.plain4}`,
);

const speed = simulatedMs / wallMs;
console.log(`simulator: ${(simulatedMs / 1000).toFixed(0)} simulated s in ${(wallMs / 1000).toFixed(1)} wall s (${speed.toFixed(0)} simulated s per wall s)`);

console.log(
  JSON.stringify({
    cubic_util: r3(cubic.utilisation(5000)),
    newreno_util: r3(newreno.utilisation(5000)),
    cubic_vs_newreno_at_0_1pct_loss: r3(median(ratios)),
    jain_two_cubic: r3(median(jains)),
    jain_two_cubic_min_of_5_seeds: r3(Math.min(...jains)),
    jain_two_cubic_noise_free: r3(jainNoiseFree),
    slow_start_losses_hystart_1bdp: ssLoss.hy1,
    slow_start_losses_plain_1bdp: ssLoss.plain1,
    slow_start_losses_hystart_4bdp: ssLoss.hy4,
    slow_start_losses_plain_4bdp: ssLoss.plain4,
    simulated_s_per_wall_s: Math.round(speed),
  }),
);
