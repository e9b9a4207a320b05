import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, it } from 'vitest';
import { fails, NOW, nodeHeaders, passes } from './helpers';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const payload = '{"type":"invoice.paid","data":{"id":"inv_1","amount":4200}}';
const msgId = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const date = (seconds: number) => new Date(seconds * 1000);
const config = { type: 'standard', secret };

const standardHeaders = (seconds = NOW, key = secret, id = msgId, body = payload) =>
  nodeHeaders({
    'Webhook-Id': id,
    'Webhook-Timestamp': String(seconds),
    'Webhook-Signature': new Webhook(key).sign(id, date(seconds), body),
  });

describe('standard (Standard Webhooks and Svix)', () => {
  it('matches the example of the Standard Webhooks / Svix documentation', () => {
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    passes(
      { type: 'standard', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      headers,
      '{"test": 2432232314}',
      1614265330,
    );
  });

  it('accepts a message signed by standardwebhooks, header names in any case', () => {
    passes(config, standardHeaders(), payload);
    passes(
      config,
      {
        'WEBHOOK-ID': msgId,
        'Webhook-Timestamp': String(NOW),
        'webhook-signature': new Webhook(secret).sign(msgId, date(NOW), payload),
      },
      payload,
    );
  });

  it('accepts a message signed by svix, with svix-* headers', () => {
    const signature = new SvixWebhook(secret).sign(msgId, date(NOW), payload);
    passes(
      config,
      nodeHeaders({ 'Svix-Id': msgId, 'Svix-Timestamp': String(NOW), 'Svix-Signature': signature }),
      payload,
    );
  });

  it('accepts a secret without the whsec_ prefix', () => {
    passes({ type: 'standard', secret: secret.slice(6) }, standardHeaders(), payload);
  });

  it('accepts a list of signatures when any v1 matches, ignoring other versions', () => {
    const good = standardHeaders()['webhook-signature'] as string;
    const bad = standardHeaders(NOW, `whsec_${randomBytes(24).toString('base64')}`)['webhook-signature'] as string;
    const headers = standardHeaders();
    passes(config, { ...headers, 'webhook-signature': `${bad} v1a,${good.slice(3)} ${good}` }, payload);
    fails('SIGNATURE_INVALID', config, { ...headers, 'webhook-signature': `${bad} v2,${good.slice(3)}` }, payload);
  });

  it('refuses a tampered body, a wrong secret, missing headers, a changed id or timestamp', () => {
    const headers = standardHeaders();
    const expected = (headers['webhook-signature'] as string).slice(3);
    fails('SIGNATURE_INVALID', config, headers, payload.replace('4200', '42'), NOW, [expected]);
    fails(
      'SIGNATURE_INVALID',
      config,
      standardHeaders(NOW, `whsec_${randomBytes(24).toString('base64')}`),
      payload,
      NOW,
      [expected],
    );
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      fails('SIGNATURE_INVALID', config, { ...headers, [name]: undefined }, payload, NOW, [expected]);
    }
    fails('SIGNATURE_INVALID', config, { ...headers, 'webhook-id': 'msg_other' }, payload);
    fails('SIGNATURE_INVALID', config, { ...headers, 'webhook-timestamp': String(NOW - 1) }, payload);
    fails('SIGNATURE_INVALID', config, { ...headers, 'webhook-timestamp': 'yesterday' }, payload);
  });

  it('accepts any secret of a rotation', () => {
    const rotating = { type: 'standard', secret: [`whsec_${randomBytes(24).toString('base64')}`, secret] };
    passes(rotating, standardHeaders(), payload);
    fails('SIGNATURE_INVALID', { type: 'standard', secret: [rotating.secret[0]] }, standardHeaders(), payload);
  });

  it('enforces the tolerance (default 300 s) both ways', () => {
    passes(config, standardHeaders(NOW - 300), payload);
    passes(config, standardHeaders(NOW + 300), payload);
    fails('TIMESTAMP_OUT_OF_TOLERANCE', config, standardHeaders(NOW - 301), payload);
    fails('TIMESTAMP_OUT_OF_TOLERANCE', config, standardHeaders(NOW + 301), payload);
    passes({ ...config, toleranceSeconds: 3600 }, standardHeaders(NOW - 3000), payload);
  });
});
