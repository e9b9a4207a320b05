import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { fails, NOW, nodeHeaders, passes } from './helpers';

const secret = 'whsec_test_stripe_secret';
const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded' }, null, 2);
const header = (opts: { secret?: string; timestamp?: number; payload?: string } = {}) =>
  Stripe.webhooks.generateTestHeaderString({
    payload: opts.payload ?? payload,
    secret: opts.secret ?? secret,
    timestamp: opts.timestamp ?? NOW,
  });
const config = { type: 'stripe', secret };

describe('stripe', () => {
  it('accepts a header from stripe.webhooks.generateTestHeaderString, header in any case', () => {
    expect(header()).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    passes(config, nodeHeaders({ 'Stripe-Signature': header() }), payload);
    passes(config, { 'STRIPE-SIGNATURE': header() }, payload);
  });

  it('accepts several v1 entries (Stripe rotating its secret) when any matches, and ignores other schemes', () => {
    const good = header().split(',v1=')[1];
    const bad = header({ secret: 'whsec_other' }).split(',v1=')[1];
    passes(config, { 'stripe-signature': `t=${NOW},v1=${bad},v1=${good}` }, payload);
    passes(config, { 'stripe-signature': `t=${NOW}, v0=${bad}, v1=${good}` }, payload);
    fails('SIGNATURE_INVALID', config, { 'stripe-signature': `t=${NOW},v1=${bad},v0=${good}` }, payload);
  });

  it('refuses a tampered body, a wrong secret, a missing or incomplete header, a changed t', () => {
    const expected = header().split(',v1=')[1];
    fails('SIGNATURE_INVALID', config, { 'stripe-signature': header() }, payload.replace('succeeded', 'failed'), NOW, [
      expected,
    ]);
    fails('SIGNATURE_INVALID', config, { 'stripe-signature': header({ secret: 'whsec_wrong' }) }, payload, NOW, [
      expected,
    ]);
    fails('SIGNATURE_INVALID', config, {}, payload);
    fails('SIGNATURE_INVALID', config, { 'stripe-signature': `v1=${expected}` }, payload);
    fails('SIGNATURE_INVALID', config, { 'stripe-signature': `t=${NOW}` }, payload);
    fails('SIGNATURE_INVALID', config, { 'stripe-signature': `t=${NOW - 1},v1=${expected}` }, payload);
  });

  it('accepts any secret of a rotation', () => {
    const rotating = { type: 'stripe', secret: ['whsec_old', secret] };
    passes(rotating, { 'stripe-signature': header() }, payload);
    fails('SIGNATURE_INVALID', rotating, { 'stripe-signature': header({ secret: 'whsec_newer' }) }, payload);
  });

  it('enforces the tolerance (default 300 s) both ways', () => {
    for (const t of [NOW - 300, NOW - 299, NOW + 299, NOW + 300]) {
      passes(config, { 'stripe-signature': header({ timestamp: t }) }, payload);
    }
    for (const t of [NOW - 301, NOW - 86_400, NOW + 301]) {
      fails('TIMESTAMP_OUT_OF_TOLERANCE', config, { 'stripe-signature': header({ timestamp: t }) }, payload);
    }
    const wide = { ...config, toleranceSeconds: 600 };
    passes(wide, { 'stripe-signature': header({ timestamp: NOW - 500 }) }, payload);
    fails('TIMESTAMP_OUT_OF_TOLERANCE', wide, { 'stripe-signature': header({ timestamp: NOW - 601 }) }, payload);
  });
});
