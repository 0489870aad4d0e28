import { describe, expect, it } from 'vitest';
import { PathConfigError, checkPathAddress, isPortOnlyChange, samePeerAddress, samePeerIp } from '../src/index.js';
import { path } from './helpers.js';

describe('path addresses', () => {
  it('tells a port-only change (NAT rebinding) from an address change', () => {
    expect(isPortOnlyChange(path('192.0.2.1', 1000), path('192.0.2.1', 2000))).toBe(true);
    expect(isPortOnlyChange(path('192.0.2.1', 1000), path('192.0.2.2', 1000))).toBe(false);
    // A new local address is not a port-only change either.
    expect(isPortOnlyChange(path('192.0.2.1', 1000, '10.0.0.1'), path('192.0.2.1', 1000, '10.0.0.2'))).toBe(false);
    expect(isPortOnlyChange(path('192.0.2.1', 1000, '10.0.0.1', 1), path('192.0.2.1', 1000, '10.0.0.1', 2))).toBe(true);
  });

  it('treats IPv4-mapped IPv6 and IPv6 case differences as the same address', () => {
    const mapped = { key: 'a', remoteAddress: '::FFFF:192.0.2.1', remotePort: 443 };
    const plain = { key: 'b', remoteAddress: '192.0.2.1', remotePort: 443 };
    expect(samePeerAddress(mapped, plain)).toBe(true);
    expect(samePeerIp({ ...plain, remoteAddress: '2001:DB8::1' }, { ...plain, remoteAddress: '2001:db8::1' })).toBe(true);
    expect(samePeerAddress(plain, { ...plain, remotePort: 444 })).toBe(false);
  });

  it('rejects malformed path descriptions', () => {
    expect(() => checkPathAddress({ key: '', remoteAddress: '192.0.2.1', remotePort: 1 })).toThrow(PathConfigError);
    expect(() => checkPathAddress({ key: 'k', remoteAddress: '', remotePort: 1 })).toThrow(PathConfigError);
    expect(() => checkPathAddress({ key: 'k', remoteAddress: 'x', remotePort: 1, localPort: -1 })).toThrow(PathConfigError);
  });
});
