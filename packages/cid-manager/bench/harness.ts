// Timing harness for a shared, noisy machine: variants run interleaved (each round runs every variant for `minMs`), so
// a burst of load from elsewhere hits all of them alike; each figure is the median of its rounds.
export interface Measurement {
  name: string;
  nsPerOp: number;
  opsPerSec: number;
}

export interface BenchCase {
  name: string;
  /** Runs `opsPerCall` operations. */
  fn: () => void;
  opsPerCall: number;
}

function timeRound(c: BenchCase, minMs: number): number {
  let calls = 0;
  const start = process.hrtime.bigint();
  const until = performance.now() + minMs;
  do {
    c.fn();
    calls++;
  } while (performance.now() < until);
  return Number(process.hrtime.bigint() - start) / (calls * c.opsPerCall);
}

export function measureInterleaved(cases: BenchCase[], opts: { minMs?: number; rounds?: number } = {}): Measurement[] {
  const minMs = opts.minMs ?? 200;
  const rounds = opts.rounds ?? 7;
  for (const c of cases) timeRound(c, 150); // warm-up: let the JIT optimise every variant first
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) cases.forEach((c, i) => samples[i]!.push(timeRound(c, minMs)));
  return cases.map((c, i) => {
    const s = samples[i]!.sort((a, b) => a - b);
    const nsPerOp = s[Math.floor(s.length / 2)]!;
    return { name: c.name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
  });
}

export function printTable(rows: Measurement[]): void {
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${r.nsPerOp.toFixed(1).padStart(8)} ns/op  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(13)} ops/s`,
    );
  }
}
