import { createHmac } from 'node:crypto';
import { describe, it } from 'vitest';
import { fails, NOW, nodeHeaders, passes } from './helpers';

// Shopify publishes no fixed test vector: the signatures are computed with node:crypto exactly as
// Shopify documents it (base64 of the HMAC-SHA256 of the raw body, keyed with the app's client secret).
const secret = 'shpss_0123456789abcdef';
const payload = '{"id":820982911946154508,"email":"jon@example.com","total_price":"19.99"}';
const sign = (key: string, data = payload) => createHmac('sha256', key).update(data).digest('base64');
const config = { type: 'shopify', secret };

describe('shopify', () => {
  it('accepts the base64 signature, header in any case', () => {
    passes(config, nodeHeaders({ 'X-Shopify-Hmac-Sha256': sign(secret) }), payload);
    passes(config, { 'X-Shopify-Hmac-SHA256': sign(secret) }, payload);
  });

  it('refuses a tampered body, a wrong secret, a missing header, a hex signature', () => {
    const expected = sign(secret);
    fails('SIGNATURE_INVALID', config, { 'x-shopify-hmac-sha256': expected }, payload.replace('19.99', '0.99'), NOW, [
      expected,
    ]);
    fails('SIGNATURE_INVALID', config, { 'x-shopify-hmac-sha256': sign('wrong') }, payload, NOW, [expected]);
    fails('SIGNATURE_INVALID', config, {}, payload, NOW, [expected]);
    const hex = createHmac('sha256', secret).update(payload).digest('hex');
    fails('SIGNATURE_INVALID', config, { 'x-shopify-hmac-sha256': hex }, payload);
  });

  it('accepts any secret of a rotation', () => {
    const rotating = { type: 'shopify', secret: ['old-secret', secret] };
    passes(rotating, { 'x-shopify-hmac-sha256': sign(secret) }, payload);
    fails('SIGNATURE_INVALID', rotating, { 'x-shopify-hmac-sha256': sign('other') }, payload);
  });
});
