// Network namespaces, veth pairs, tc shaping and `ip mptcp` for the multipath tests and the bench, plus a runner for
// test/fixtures/peer.ts inside a namespace. Every name carries the prefix `pqm-<pid>-<random>` so parallel runs
// never collide, and `cleanupLeftovers()` removes namespaces of runs whose process is gone.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PREFIX = 'pqm-';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
}

let unavailable: string | null | undefined;

/** Why namespace tests cannot run here, or null when they can (root, iproute2 with `ip mptcp`, tc, kernel MPTCP). */
export function netnsUnavailableReason(): string | null {
  if (unavailable !== undefined) return unavailable;
  unavailable = null;
  if (process.platform !== 'linux') unavailable = 'network namespaces need Linux';
  else if (process.getuid?.() !== 0) unavailable = 'network namespace tests need root (ip netns, tc, ip mptcp)';
  else if (!existsSync('/proc/sys/net/mptcp/enabled')) unavailable = 'the kernel has no MPTCP (/proc/sys/net/mptcp missing)';
  else {
    try {
      run('ip', ['mptcp', 'limits', 'show']);
      run('tc', ['-V']);
    } catch (err) {
      unavailable = `iproute2 with 'ip mptcp' and 'tc' is needed: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  return unavailable;
}

/** Skip namespace tests only outside CI: in CI (as root) they must run, and fail loudly if they cannot. */
export function skipNetns(): boolean {
  const reason = netnsUnavailableReason();
  if (reason === null) return false;
  if (process.env['CI'] === 'true') return false;
  console.warn(`skipping network-namespace tests: ${reason}`);
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces left by earlier runs whose process no longer exists (a crash, a killed CI job). */
export function cleanupLeftovers(): void {
  let list = '';
  try {
    list = run('ip', ['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^pqm-(\d+)-/.exec(name);
    if (m !== null && !alive(Number(m[1]))) deleteNamespace(name);
  }
}

function deleteNamespace(name: string): void {
  try {
    run('ip', ['netns', 'del', name]);
  } catch {
    // already gone
  }
}

export class Netns {
  readonly name: string;
  private destroyed = false;

  constructor(role: string) {
    this.name = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}-${role}`;
    run('ip', ['netns', 'add', this.name]);
    this.ip('link', 'set', 'lo', 'up');
  }

  ip(...args: string[]): string {
    return run('ip', ['-n', this.name, ...args]);
  }

  exec(cmd: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }

  sysctl(key: string, value: string | number): void {
    this.exec('sysctl', '-q', '-w', `${key}=${value}`);
  }

  /** Deleting the namespace also deletes its veth ends (and so their peers) and its qdiscs. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    deleteNamespace(this.name);
  }
}

/**
 * client ns                       server ns
 *   a1 10.201.1.1/24 ── veth ──  b1 10.201.1.2/24   (path 1, the address the client dials)
 *   a2 10.201.2.1/24 ── veth ──  b2 10.201.2.2/24   (path 2)
 * Every veth end egress is shaped by tbf to the same rate. The client has an `ip mptcp endpoint … subflow` on a2 and
 * a source-routing rule so subflows from 10.201.2.1 leave through a2 even towards 10.201.1.2; the server accepts
 * them on b2 (its address 10.201.1.2 is local whatever the interface).
 */
export class TwoPathTopology {
  readonly client = new Netns('c');
  readonly server: Netns;
  readonly serverAddress = '10.201.1.2';
  readonly rateMbit: number;

  constructor(rateMbit = 50) {
    this.rateMbit = rateMbit;
    try {
      this.server = new Netns('s');
      const { client, server } = this;
      for (const n of [1, 2]) {
        run('ip', ['link', 'add', `a${n}`, 'netns', client.name, 'type', 'veth', 'peer', 'name', `b${n}`, 'netns', server.name]);
        client.ip('addr', 'add', `10.201.${n}.1/24`, 'dev', `a${n}`);
        server.ip('addr', 'add', `10.201.${n}.2/24`, 'dev', `b${n}`);
        client.ip('link', 'set', `a${n}`, 'up');
        server.ip('link', 'set', `b${n}`, 'up');
        // burst ≥ rate/HZ and a 20 ms queue: the rate, not the qdisc, is the limit; GSO packets are split by tbf.
        for (const [ns, dev] of [[client, `a${n}`], [server, `b${n}`]] as const) ns.exec('tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '32kb', 'latency', '20ms');
      }
      client.ip('rule', 'add', 'from', '10.201.2.1', 'table', '102');
      client.ip('route', 'add', '10.201.1.0/24', 'dev', 'a2', 'table', '102');
      for (const ns of [client, server]) ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** With the endpoint the client opens a second subflow over path 2; without it, MPTCP runs over path 1 only. */
  secondPath(on: boolean): void {
    this.client.ip('mptcp', 'endpoint', 'flush');
    if (on) this.client.ip('mptcp', 'endpoint', 'add', '10.201.2.1', 'dev', 'a2', 'subflow');
  }

  linkDown(n: 1 | 2): void {
    this.client.ip('link', 'set', `a${n}`, 'down');
  }

  destroy(): void {
    this.client.destroy();
    (this.server as Netns | undefined)?.destroy();
  }
}

export type PeerEvent = { event: string } & Record<string, unknown>;

/** test/fixtures/peer.ts in a namespace (or here when ns is null); its JSON lines arrive as events. */
export class Peer {
  readonly events: PeerEvent[] = [];
  private readonly proc: ChildProcessWithoutNullStreams;
  private stderr = '';
  private exited: number | null | undefined;
  private waiters: Array<() => void> = [];

  constructor(ns: Netns | null, args: object, env: NodeJS.ProcessEnv = {}) {
    const node = [process.execPath, '--import', 'tsx', join(pkgDir, 'test', 'fixtures', 'peer.ts'), JSON.stringify(args)];
    const [cmd, ...argv] = ns === null ? node : ['ip', 'netns', 'exec', ns.name, ...node];
    this.proc = spawn(cmd as string, argv, { cwd: pkgDir, env: { ...process.env, ...env }, stdio: 'pipe' });
    let buffered = '';
    this.proc.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line) as PeerEvent);
        } catch {
          this.stderr += `${line}\n`;
        }
        this.wake();
      }
    });
    this.proc.stderr.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    this.proc.on('exit', (code) => {
      this.exited = code;
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** The first event (already seen or still to come) that matches; rejects if the process ends first or on timeout. */
  waitFor(match: (e: PeerEvent) => boolean, timeoutMs = 30_000, fromIndex = 0): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer: no matching event in ${timeoutMs} ms; events ${JSON.stringify(this.events).slice(0, 2000)}; stderr ${this.stderr}`)), timeoutMs);
      const check = (): void => {
        const found = this.events.slice(fromIndex).find(match);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else if (this.exited !== undefined) {
          clearTimeout(timer);
          reject(new Error(`peer exited (${this.exited}) first; events ${JSON.stringify(this.events).slice(0, 2000)}; stderr ${this.stderr}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  kill(): void {
    if (this.exited === undefined && this.proc.pid !== undefined) this.proc.kill('SIGKILL');
  }
}
