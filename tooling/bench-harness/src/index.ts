// Timing harness for a shared, noisy machine. Variants are measured interleaved: each round runs every variant once
// for `minMs`, so a burst of load from elsewhere hits all of them alike and their ratios stay meaningful. Each
// variant's figure is the median of its rounds.
export interface Measurement {
  name: string;
  nsPerOp: number;
  opsPerSec: number;
}

export interface BenchCase {
  name: string;
  fn: () => void;
  /** Operations one call of `fn` performs (e.g. packets in a batch); figures are per operation. */
  opsPerCall?: number;
  /** Calls between clock reads. */
  batch?: number;
}

function timeRound(c: BenchCase, minMs: number): number {
  const batch = c.batch ?? 1000;
  let calls = 0;
  const start = process.hrtime.bigint();
  const until = performance.now() + minMs;
  do {
    for (let i = 0; i < batch; i++) c.fn();
    calls += batch;
  } while (performance.now() < until);
  return Number(process.hrtime.bigint() - start) / (calls * (c.opsPerCall ?? 1));
}

export function measureInterleaved(cases: BenchCase[], opts: { minMs?: number; rounds?: number } = {}): Measurement[] {
  const minMs = opts.minMs ?? 250;
  const rounds = opts.rounds ?? 9;
  for (const c of cases) timeRound(c, 150); // warm-up: let the JIT optimise every variant first
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) cases.forEach((c, i) => samples[i]!.push(timeRound(c, minMs)));
  return cases.map((c, i) => {
    const s = samples[i]!.sort((a, b) => a - b);
    const nsPerOp = s[Math.floor(s.length / 2)]!;
    return { name: c.name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
  });
}

export function measure(name: string, fn: () => void, opts: { batch?: number; minMs?: number; rounds?: number } = {}): Measurement {
  return measureInterleaved([{ name, fn, batch: opts.batch }], opts)[0]!;
}

export function printTable(rows: Measurement[]): void {
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${r.nsPerOp.toFixed(1).padStart(8)} ns/op  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(13)} ops/s`,
    );
  }
}
