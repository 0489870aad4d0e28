// A small timing harness: runs `fn` in rounds of a fixed batch until `minMs` has passed, several times, and keeps
// the median round. Medians of repeated rounds resist a noisy shared machine better than one long loop.
export interface Measurement {
  name: string;
  nsPerOp: number;
  opsPerSec: number;
}

export function measure(name: string, fn: () => void, opts: { batch?: number; minMs?: number; rounds?: number } = {}): Measurement {
  const batch = opts.batch ?? 1000;
  const minMs = opts.minMs ?? 300;
  const rounds = opts.rounds ?? 7;
  // Warm-up so the JIT has optimised `fn` before timing.
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) for (let i = 0; i < batch; i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const until = performance.now() + minMs;
    do {
      for (let i = 0; i < batch; i++) fn();
      ops += batch;
    } while (performance.now() < until);
    samples.push(Number(process.hrtime.bigint() - start) / ops);
  }
  samples.sort((a, b) => a - b);
  const nsPerOp = samples[Math.floor(samples.length / 2)]!;
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
}

export function printTable(rows: Measurement[]): void {
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)}  ${r.nsPerOp.toFixed(0).padStart(8)} ns/op  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)} ops/s`);
  }
}
