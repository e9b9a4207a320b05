import { describe, expect, it } from 'vitest';
import { compileIpList, invalidIpEntries, resolveClientIp } from '../../src/server/http/client-ip';

// `ipAllowlist` and `trustedProxies` as lists: matching, and the client IP they decide.
describe('IP lists', () => {
  it('match IPv4, IPv6, CIDR and IPv4-mapped IPv6', () => {
    const allowed = compileIpList(['192.168.1.0/24', '10.0.0.7', '2001:db8::/32', '::1', '::ffff:172.16.0.0/108']);
    expect(allowed('192.168.1.200')).toBe(true);
    expect(allowed('192.168.2.1')).toBe(false);
    expect(allowed('10.0.0.7')).toBe(true);
    expect(allowed('::ffff:10.0.0.7')).toBe(true);
    expect(allowed('2001:db8:1::5')).toBe(true);
    expect(allowed('2001:db9::1')).toBe(false);
    expect(allowed('::1')).toBe(true);
    expect(allowed('172.16.200.3')).toBe(true);
    expect(allowed('not-an-ip')).toBe(false);
    expect(invalidIpEntries(['10.0.0.0/8', '300.1.1.1', '1.2.3.4/40', 'fe80::/10', 'x'])).toEqual([
      '300.1.1.1',
      '1.2.3.4/40',
      'x',
    ]);
  });

  it('believe X-Forwarded-For only from trusted proxies, hop by hop from the right', () => {
    const trusted = compileIpList(['10.0.0.0/8']);
    expect(resolveClientIp('::ffff:10.0.0.2', '203.0.113.9, 10.1.1.1', trusted)).toBe('203.0.113.9');
    // A client that prepends a fake address does not get past the first untrusted hop.
    expect(resolveClientIp('10.0.0.2', '1.1.1.1, 198.51.100.4', trusted)).toBe('198.51.100.4');
    // From an untrusted peer the header changes nothing.
    expect(resolveClientIp('198.51.100.4', '10.0.0.1', trusted)).toBe('198.51.100.4');
    expect(resolveClientIp('198.51.100.4', '10.0.0.1', null)).toBe('198.51.100.4');
    // Garbage in the header stops the walk at the last good hop.
    expect(resolveClientIp('10.0.0.2', 'garbage', trusted)).toBe('10.0.0.2');
  });
});
