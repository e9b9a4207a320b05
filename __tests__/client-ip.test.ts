import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileIpList, invalidIpEntries, resolveClientIp } from '../src/server/http/client-ip';
import { createTestApp, type TestApp } from './helpers/app';
import { echoContextNode, expectError } from './helpers/http';
import { createWebhookWorkflow } from './helpers/workflows';

// SPEC.md `ipAllowlist` and `trustedProxies`.
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

  describe('on the route', () => {
    let t: TestApp;
    const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);
    beforeAll(async () => {
      t = await createTestApp();
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'only-lan', ipAllowlist: ['192.168.0.0/16'] },
        nodes: [echoContextNode],
      });
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'local', ipAllowlist: ['127.0.0.1', '::1'] },
        nodes: [echoContextNode],
      });
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'behind-proxy', trustedProxies: ['127.0.0.1'], ipAllowlist: ['203.0.113.0/24'] },
        nodes: [echoContextNode],
      });
    });
    afterAll(async () => {
      await t?.destroy();
    });

    it('an address outside the allow-list is 403 IP_FORBIDDEN and starts nothing', async () => {
      expectError(await post('only-lan').send({}), 403, 'IP_FORBIDDEN');
      // A spoofed X-Forwarded-For from an untrusted peer changes nothing.
      expectError(await post('only-lan').set('X-Forwarded-For', '192.168.1.1').send({}), 403, 'IP_FORBIDDEN');
      expect(await t.app.db.getRepository('executions').count()).toBe(0);
    });
    it('an address in the allow-list passes', async () => {
      const res = await post('local').send({});
      expect(res.status).toBe(200);
      expect(res.body.ip).toBe('127.0.0.1');
    });
    it('behind a trusted proxy the forwarded client address counts', async () => {
      const res = await post('behind-proxy').set('X-Forwarded-For', '203.0.113.50').send({});
      expect(res.status).toBe(200);
      expect(res.body.ip).toBe('203.0.113.50');
      expectError(await post('behind-proxy').set('X-Forwarded-For', '198.51.100.1').send({}), 403, 'IP_FORBIDDEN');
      expectError(await post('behind-proxy').send({}), 403, 'IP_FORBIDDEN');
    });
  });
});
