import { describe, expect, it } from 'vitest';
import * as pathquic from '../src/index.js';
import * as transport from '@pathquic/transport-dgram';

describe('the umbrella', () => {
  it('re-exports the transport API at the top level, unchanged', () => {
    for (const name of Object.keys(transport)) expect((pathquic as Record<string, unknown>)[name], name).toBe((transport as Record<string, unknown>)[name]);
    expect(typeof pathquic.connect).toBe('function');
    expect(typeof pathquic.listen).toBe('function');
  });

  it('offers every package as a namespace', () => {
    expect(typeof pathquic.core.Endpoint).toBe('function');
    expect(typeof pathquic.tls.TlsClient).toBe('function');
    expect(typeof pathquic.wire.parsePacketHeader).toBe('function');
    expect(typeof pathquic.h3.serveH3).toBe('function');
    expect(typeof pathquic.cid.CidRouter).toBe('function');
    expect(typeof pathquic.paths.PathValidator).toBe('function');
    expect(typeof pathquic.recovery.CubicController).toBe('function');
    expect(typeof pathquic.priority.StreamScheduler).toBe('function');
    expect(pathquic.PRIORITY_DEFAULT).toBe(0x7fff);
  });
});
