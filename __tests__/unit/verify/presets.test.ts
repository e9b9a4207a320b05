import { createHmac } from 'node:crypto';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import { Environment, Paddle } from '@paddle/paddle-node-sdk';
import { describe, expect, it } from 'vitest';
import { TEMPLATE_PRESETS, type TemplatePreset } from '../../../src/common/schemes';
import { type VerificationConfig, validateVerification, verifyRequest } from '../../../src/server/verify';
import { signRequest } from '../../../src/server/verify/sign';
import { fails, nodeHeaders, passes } from './helpers';

// Senders that are a `template` with fixed settings (src/common/schemes.ts TEMPLATE_PRESETS): each
// preset is checked against the sender's own SDK where one exists (Linear, Paddle) and against
// the signature its documentation describes otherwise (Typeform, Calendly, Square).

const preset = (id: string): TemplatePreset => {
  const found = TEMPLATE_PRESETS.find((p) => p.id === id);
  if (!found) throw new Error(`no preset ${id}`);
  return found;
};
const configOf = (id: string, secret: string): VerificationConfig => ({
  type: 'template',
  preset: id,
  secret,
  ...preset(id).settings,
});
const now = () => Math.floor(Date.now() / 1000);
// The SDK's client sets up its crypto runtime; no request is made.
const paddle = new Paddle('pdl_sdbx_apikey_test', { environment: Environment.sandbox });

describe('template presets', () => {
  it('every preset is a valid template configuration', () => {
    for (const p of TEMPLATE_PRESETS) expect(validateVerification(configOf(p.id, 'secret')), p.id).toBeNull();
    expect(validateVerification({ ...configOf('linear', 's'), preset: 'nope' })).toHaveProperty('preset');
  });

  it('linear: hex HMAC-SHA256 of the body in Linear-Signature (checked by @linear/sdk)', () => {
    const secret = 'lin_wh_secret';
    const body = JSON.stringify({ action: 'create', type: 'Issue', webhookTimestamp: Date.now(), data: { id: 'x' } });
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    expect(new LinearWebhookClient(secret).verify(Buffer.from(body), signature)).toBe(true);
    passes(configOf('linear', secret), nodeHeaders({ 'Linear-Signature': signature }), body, now());
    fails(
      'SIGNATURE_INVALID',
      configOf('linear', 'other'),
      nodeHeaders({ 'Linear-Signature': signature }),
      body,
      now(),
    );
  });

  it('paddle: ts and h1 in Paddle-Signature over "{ts}:{body}" (checked by @paddle/paddle-node-sdk)', async () => {
    const secret = 'pdl_ntfset_secret';
    const body = JSON.stringify({ event_id: 'evt_1', event_type: 'transaction.paid', data: {} });
    const ts = now();
    const header = `ts=${ts};h1=${createHmac('sha256', secret).update(`${ts}:${body}`).digest('hex')}`;
    expect(await paddle.webhooks.isSignatureValid(body, secret, header)).toBe(true);
    passes(configOf('paddle', secret), nodeHeaders({ 'Paddle-Signature': header }), body, ts);
    // Our own test request is accepted by Paddle's SDK too.
    const signed = signRequest(configOf('paddle', secret), Buffer.from(body), ts, {
      method: 'POST',
      url: 'https://hooks.example/api/webhooks/p',
      headers: {},
      querystring: '',
    });
    expect(await paddle.webhooks.isSignatureValid(body, secret, signed.headers['paddle-signature'])).toBe(true);
    fails('SIGNATURE_INVALID', configOf('paddle', secret), nodeHeaders({ 'Paddle-Signature': `ts=${ts}` }), body, ts);
    fails(
      'TIMESTAMP_OUT_OF_TOLERANCE',
      configOf('paddle', secret),
      nodeHeaders({ 'Paddle-Signature': header }),
      body,
      ts + 3600,
    );
  });

  it('typeform: sha256= and the base64 HMAC of the body in Typeform-Signature', () => {
    const body = '{"event_id":"01","form_response":{}}';
    const signature = `sha256=${createHmac('sha256', 'tf').update(body).digest('base64')}`;
    passes(configOf('typeform', 'tf'), nodeHeaders({ 'Typeform-Signature': signature }), body, now());
    fails(
      'SIGNATURE_INVALID',
      configOf('typeform', 'tf'),
      nodeHeaders({ 'Typeform-Signature': signature }),
      `${body} `,
    );
  });

  it('calendly: t and v1 in Calendly-Webhook-Signature over "{t}.{body}"', () => {
    const body = '{"event":"invitee.created","payload":{}}';
    const t = now();
    const header = `t=${t},v1=${createHmac('sha256', 'cal').update(`${t}.${body}`).digest('hex')}`;
    passes(configOf('calendly', 'cal'), nodeHeaders({ 'Calendly-Webhook-Signature': header }), body, t);
    fails(
      'SIGNATURE_INVALID',
      configOf('calendly', 'cal'),
      nodeHeaders({ 'Calendly-Webhook-Signature': header }),
      body.replace('created', 'canceled'),
      t,
    );
  });

  it('square: the base64 HMAC-SHA256 of the notification URL and the body', () => {
    const url = 'https://hooks.example/api/webhooks/sq';
    const body = '{"merchant_id":"M","type":"payment.updated"}';
    const signature = createHmac('sha256', 'sq')
      .update(url + body)
      .digest('base64');
    const headers = nodeHeaders({ 'X-Square-HmacSha256-Signature': signature });
    expect(() => verifyRequest(configOf('square', 'sq'), headers, Buffer.from(body), now(), { url })).not.toThrow();
    expect(() =>
      verifyRequest(configOf('square', 'sq'), headers, Buffer.from(body), now(), { url: `${url}?x=1` }),
    ).toThrow();
  });
});
