import { describe, expect, it } from 'vitest';
import { QlogWriter } from '../../src/index.js';
import { SimNetwork } from './sim.js';
import { connectPair, pseudoRandomBytes, transfer } from './helpers.js';

function parseSeq(records: string[]): Record<string, unknown>[] {
  return records.map((r) => {
    expect(r.startsWith('\x1e')).toBe(true);
    expect(r.endsWith('\n')).toBe(true);
    return JSON.parse(r.slice(1)) as Record<string, unknown>;
  });
}

describe('qlog from a live connection', () => {
  for (const flavour of ['qvis', 'draft'] as const) {
    it(`writes a ${flavour} JSON-SEQ trace with packets, losses and metrics`, () => {
      const logs = new Map<string, string[]>();
      const qlog = ({ role, odcid, now }: { role: 'client' | 'server'; odcid: Uint8Array; now: number }) => {
        const records: string[] = [];
        logs.set(role, records);
        return new QlogWriter({ sink: (r) => records.push(r), flavour, vantagePoint: role, odcid, referenceTime: now });
      };
      const net = new SimNetwork({ seed: 3, link: { delay: 10, loss: 0.03 }, clientEndpoint: { qlog }, server: { tls: {} } });
      // The server endpoint is built by SimNetwork; rebuild its qlog hook through the options it exposes.
      (net.server as unknown as { options: { qlog: typeof qlog } }).options.qlog = qlog;
      const pair = connectPair(net);
      net.runUntil(() => pair.client.isHandshakeComplete && pair.server()?.isHandshakeComplete === true, 10_000);
      transfer(net, pair.client, pair.server()!, pseudoRandomBytes(300_000));
      pair.client.close(net.now);
      net.runUntil(() => pair.client.isClosed && pair.server()!.isClosed, 10_000);

      for (const role of ['client', 'server']) {
        const records = parseSeq(logs.get(role)!);
        const header = records[0]!;
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- qlog records are free-form JSON
        const events = records.slice(1) as { time: number; name: string; data: Record<string, any> }[];
        if (flavour === 'qvis') {
          // What qvis needs (../shared/quic-facts.md §8.2).
          expect(header).toMatchObject({ qlog_version: '0.3', qlog_format: 'JSON-SEQ' });
          expect(header.trace).toBeDefined();
        } else {
          expect(header).toMatchObject({ file_schema: 'urn:ietf:params:qlog:file:sequential' });
        }
        const prefix = flavour === 'qvis' ? { sent: 'transport:packet_sent', metrics: 'recovery:metrics_updated' } : { sent: 'quic:packet_sent', metrics: 'quic:recovery_metrics_updated' };
        const sent = events.filter((e) => e.name === prefix.sent);
        expect(sent.length, role).toBeGreaterThan(50);
        for (const e of sent.slice(0, 50)) {
          expect(typeof e.data.header.packet_number).toBe('number');
          expect(e.data.raw.length).toBeGreaterThan(20);
          expect(Array.isArray(e.data.frames)).toBe(true);
        }
        expect(events.some((e) => e.name === prefix.metrics && typeof e.data.congestion_window === 'number')).toBe(true);
        // Events are in time order (qvis requires it).
        for (let i = 1; i < events.length; i++) expect(events[i]!.time).toBeGreaterThanOrEqual(events[i - 1]!.time);
        expect(events.some((e) => e.name.endsWith('connection_closed'))).toBe(true);
      }
      expect(parseSeq(logs.get('client')!).some((e) => String(e.name).endsWith('packet_lost'))).toBe(true);
    });
  }
});

describe('qlog of a migration', () => {
  it('the server logs migration_state_updated: probing_started, probing_successful, migration_complete', () => {
    const records: string[] = [];
    const qlog = ({ role, odcid, now }: { role: 'client' | 'server'; odcid: Uint8Array; now: number }) =>
      role === 'server' ? new QlogWriter({ sink: (r) => records.push(r), flavour: 'draft', vantagePoint: role, odcid, referenceTime: now }) : undefined;
    const net = new SimNetwork({ link: { delay: 10 }, server: { tls: {} } });
    (net.server as unknown as { options: { qlog: typeof qlog } }).options.qlog = qlog;
    const pair = connectPair(net);
    net.runUntil(() => pair.client.isHandshakeComplete && pair.server()?.isHandshakeComplete === true, 10_000);
    net.runUntil(() => false, 200);
    net.clientAddr = { address: net.clientAddr.address, port: net.clientAddr.port + 1 };
    transfer(net, pair.client, pair.server()!, pseudoRandomBytes(100_000));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- qlog records are free-form JSON
    const states = parseSeq(records).filter((e) => e.name === 'quic:migration_state_updated').map((e) => e.data as Record<string, any>);
    expect(states.map((s) => s.new)).toEqual(expect.arrayContaining(['probing_started', 'probing_successful', 'migration_complete']));
    const done = states.find((s) => s.new === 'migration_complete')!;
    expect(done).toMatchObject({ trigger: 'nat-rebinding', congestion: 'keep', path_remote: { ip: net.clientAddr.address, port: net.clientAddr.port } });
  });
});
