import { createHash, createHmac, randomBytes } from 'node:crypto';
import { AESCipher, EventDispatcher } from '@larksuiteoapi/node-sdk';
import { verify as githubVerify } from '@octokit/webhooks-methods';
import { decrypt as wecomDecrypt, getSignature as wecomSignature } from '@wecom/crypto';
import { Webhook } from 'standardwebhooks';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERIES } from '../../src/common/constants';
import { TEMPLATE_PRESETS } from '../../src/common/schemes';

import { CannotSign, signRequest } from '../../src/server/verify/sign';
import type { SignContext } from '../../src/server/verify/types';
import { createTestApp, rootUser, type TestApp } from '../helpers/app';
import { createWebhookWorkflow, waitForDeliveries } from '../helpers/workflows';

// Issue 12: a test request can be signed for every sender whose secret is stored (not Discord's
// nor a whpk_ public key), and the signed request is what the sender's own SDK accepts.
const AES = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const NOW = Math.floor(Date.now() / 1000);
const context = (extra: Partial<SignContext> = {}): SignContext => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  querystring: '',
  url: 'http://127.0.0.1/api/webhooks/k',
  ...extra,
});

describe('the signers, checked with the senders’ SDKs', () => {
  it('wecom: the envelope and msg_signature are what @wecom/crypto makes and opens', () => {
    const message = '<xml><MsgType>text</MsgType><Content>hi</Content></xml>';
    const signed = signRequest(
      { type: 'wecom', token: 'tk', encodingAESKey: AES, receiveId: 'corp1' },
      Buffer.from(message),
      NOW,
      context(),
    );
    const encrypt = /<Encrypt><!\[CDATA\[(.*)\]\]><\/Encrypt>/.exec(String(signed.body))?.[1] ?? '';
    const { timestamp, nonce, msg_signature } = signed.query ?? {};
    expect(msg_signature).toBe(wecomSignature('tk', timestamp, nonce, encrypt));
    expect(wecomDecrypt(AES, encrypt)).toMatchObject({ message, id: 'corp1' });
    // The URL check: a GET with a sealed echostr.
    const get = signRequest(
      { type: 'wecom', token: 'tk', encodingAESKey: AES },
      Buffer.alloc(0),
      NOW,
      context({ method: 'GET' }),
    );
    const q = get.query ?? {};
    expect(q.msg_signature).toBe(wecomSignature('tk', q.timestamp, q.nonce, q.echostr));
    expect(wecomDecrypt(AES, q.echostr).message.length).toBeGreaterThan(0);
  });

  it('dingtalk: WeCom’s crypto over JSON, for the owner key', () => {
    const event = JSON.stringify({ EventType: 'user_add_org', UserId: ['u1'] });
    const signed = signRequest(
      { type: 'dingtalk', token: 'tk', aesKey: AES, ownerKey: 'dingapp' },
      Buffer.from(event),
      NOW,
    );
    const { encrypt } = JSON.parse(String(signed.body));
    const { timestamp, nonce, msg_signature } = signed.query ?? {};
    expect(msg_signature).toBe(wecomSignature('tk', timestamp, nonce, encrypt));
    expect(wecomDecrypt(AES, encrypt)).toMatchObject({ message: event, id: 'dingapp' });
  });

  it('feishu: encrypted as the Lark SDK decrypts, signed as it checks, the token inside', () => {
    const verification = { type: 'feishu', verificationToken: 'vt', encryptKey: 'ek' };
    const signed = signRequest(verification, Buffer.from('{"schema":"2.0","event":{"a":1}}'), NOW);
    const body = JSON.parse(String(signed.body));
    const event = JSON.parse(new AESCipher('ek').decrypt(body.encrypt));
    expect(event).toEqual({ schema: '2.0', event: { a: 1 }, header: { token: 'vt' } });
    const dispatcher = new EventDispatcher({ encryptKey: 'ek', verificationToken: 'vt' }) as any;
    const data = Object.assign(Object.create({ headers: signed.headers }), body);
    expect(dispatcher.requestHandle.checkIsEventValidated(data)).toBe(true);
    // Without an Encrypt Key: the plain event with its token.
    const plain = signRequest(
      { type: 'feishu', verificationToken: 'vt' },
      Buffer.from('{"type":"url_verification","challenge":"c"}'),
      NOW,
    );
    expect(JSON.parse(String(plain.body))).toEqual({ type: 'url_verification', challenge: 'c', token: 'vt' });
  });

  it('twilio: a form and a JSON body are what the twilio SDK validates', () => {
    const url = 'https://hooks.example.com/api/webhooks/tw';
    const form = 'From=%2B15551234567&Body=Hello+there&To=%2B15557654321';
    const signed = signRequest(
      { type: 'twilio', authToken: 'at', url },
      Buffer.from(form),
      NOW,
      context({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );
    const params = Object.fromEntries(new URLSearchParams(form));
    expect(twilio.validateRequest('at', signed.headers['x-twilio-signature'], url, params)).toBe(true);
    const json = '{"hello":"world"}';
    const withQuery = signRequest(
      { type: 'twilio', authToken: 'at', url },
      Buffer.from(json),
      NOW,
      context({ querystring: 'a=1' }),
    );
    const full = `${url}?a=1&${new URLSearchParams(withQuery.query).toString()}`;
    expect(twilio.validateRequestWithBody('at', withQuery.headers['x-twilio-signature'], full, json)).toBe(true);
  });

  it('standard: what the standardwebhooks library verifies; a whpk_ public key cannot sign', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const body = '{"type":"invoice.paid"}';
    const { headers } = signRequest({ type: 'standard', secret }, Buffer.from(body), NOW);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ type: 'invoice.paid' });
    const publicKey = `whpk_${randomBytes(32).toString('base64')}`;
    expect(() => signRequest({ type: 'standard', secret: publicKey }, Buffer.from(body), NOW)).toThrow(CannotSign);
    expect(() => signRequest({ type: 'discord', publicKey: 'a'.repeat(64) }, Buffer.from(body), NOW)).toThrow(
      CannotSign,
    );
  });

  it('meta: X-Hub-Signature-256 as @octokit/webhooks-methods verifies it (the same as GitHub)', async () => {
    const body = '{"object":"whatsapp_business_account"}';
    const { headers } = signRequest({ type: 'meta', secret: 'app-secret', verifyToken: 'v' }, Buffer.from(body), NOW);
    expect(await githubVerify('app-secret', body, headers['x-hub-signature-256'])).toBe(true);
  });

  it('zoom, twitch, dingtalk-robot, msgraph, template: as each sender documents it', () => {
    const body = '{"event":"meeting.started"}';
    const hex = (key: string, text: string) => createHmac('sha256', key).update(text).digest('hex');
    const zoom = signRequest({ type: 'zoom', secret: 'zs' }, Buffer.from(body), NOW).headers;
    expect(zoom['x-zm-signature']).toBe(`v0=${hex('zs', `v0:${zoom['x-zm-request-timestamp']}:${body}`)}`);

    const twitch = signRequest({ type: 'twitch', secret: 'ts' }, Buffer.from(body), NOW, context()).headers;
    const id = twitch['twitch-eventsub-message-id'];
    const ts = twitch['twitch-eventsub-message-timestamp'];
    expect(twitch['twitch-eventsub-message-signature']).toBe(`sha256=${hex('ts', id + ts + body)}`);
    expect(twitch['twitch-eventsub-message-type']).toBe('notification');

    const robot = signRequest({ type: 'dingtalk-robot', secret: 'rs' }, Buffer.from(body), NOW).headers;
    expect(robot.sign).toBe(createHmac('sha256', 'rs').update(`${robot.timestamp}\nrs`).digest('base64'));
    expect(Number(robot.timestamp)).toBe(NOW * 1000);

    const graph = signRequest(
      { type: 'msgraph', clientState: 'cs' },
      Buffer.from('{"value":[{"id":1},{"id":2}]}'),
      NOW,
    );
    expect(JSON.parse(String(graph.body))).toEqual({
      value: [
        { id: 1, clientState: 'cs' },
        { id: 2, clientState: 'cs' },
      ],
    });

    const template = signRequest(
      {
        type: 'template',
        secret: 'ps',
        header: 'X-Sig',
        prefix: 'v1=',
        message: '{timestamp}.{id}.{url}.{body}',
        timestampHeader: 'X-Ts',
        idHeader: 'X-Id',
      },
      Buffer.from(body),
      NOW,
      context(),
    ).headers;
    const message = `${template['x-ts']}.${template['x-id']}.http://127.0.0.1/api/webhooks/k.${body}`;
    expect(template['x-sig']).toBe(`v1=${hex('ps', message)}`);
  });
});

describe('webhookDeliveries:test signs for every sender that can be signed', () => {
  let t: TestApp;
  let agent: any;
  let counter = 0;

  beforeAll(async () => {
    t = await createTestApp({ acl: true });
    agent = await t.app.agent().login(await rootUser(t.app));
  });
  afterAll(async () => {
    await t?.destroy();
  });

  /** A disabled sync version that answers with `$context.data`, and a test request sent to it. */
  async function trial(verification: Record<string, unknown>, values: Record<string, unknown>) {
    const workflow = await createWebhookWorkflow(t.app, {
      sync: true,
      enabled: false,
      config: { key: `signed-${++counter}`, verification },
      nodes: [{ type: 'output', config: { value: '{{$context.data}}' } }],
    });
    const res = await agent.post(`/api/${DELIVERIES}:test?workflowId=${workflow.id}`).send(values);
    return res;
  }
  const data = (res: any) => {
    const body = res.body.data.body;
    return typeof body === 'string' ? JSON.parse(body) : body;
  };

  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, (res: any) => void]> = [
    [
      'wecom',
      { type: 'wecom', token: 'tk', encodingAESKey: AES, receiveId: 'corp1' },
      { body: '<xml><MsgType>text</MsgType><Content>hi</Content></xml>' },
      (res) => expect(data(res)).toEqual({ MsgType: 'text', Content: 'hi' }),
    ],
    [
      'dingtalk',
      { type: 'dingtalk', token: 'tk', aesKey: AES, ownerKey: 'dingapp' },
      { body: '{"EventType":"user_add_org"}' },
      (res) => expect(data(res)).toEqual({ EventType: 'user_add_org' }),
    ],
    [
      'dingtalk-robot',
      { type: 'dingtalk-robot', secret: 'rs' },
      { body: '{"msgtype":"text"}' },
      (res) => expect(data(res)).toEqual({ msgtype: 'text' }),
    ],
    [
      'feishu (encrypted)',
      { type: 'feishu', verificationToken: 'vt', encryptKey: 'ek' },
      { body: '{"schema":"2.0","event":{"a":1}}' },
      (res) => expect(data(res)).toMatchObject({ event: { a: 1 } }),
    ],
    [
      'feishu (plain)',
      { type: 'feishu', verificationToken: 'vt' },
      { body: '{"schema":"2.0","event":{"a":2}}' },
      (res) => expect(data(res)).toMatchObject({ event: { a: 2 } }),
    ],
    [
      'meta',
      { type: 'meta', secret: 'app', verifyToken: 'v' },
      { body: '{"object":"page"}' },
      (res) => expect(data(res)).toEqual({ object: 'page' }),
    ],
    [
      'zoom',
      { type: 'zoom', secret: 'zs' },
      { body: '{"event":"x"}' },
      (res) => expect(data(res)).toEqual({ event: 'x' }),
    ],
    [
      'twitch',
      { type: 'twitch', secret: 'ts' },
      { body: '{"event":{}}' },
      (res) => expect(data(res)).toEqual({ event: {} }),
    ],
    [
      'msgraph',
      { type: 'msgraph', clientState: 'cs' },
      { body: '{"changeType":"created"}' },
      (res) => expect(data(res)).toEqual({ value: [{ changeType: 'created', clientState: 'cs' }] }),
    ],
    [
      'twilio (form)',
      { type: 'twilio', authToken: 'at', url: 'https://hooks.example.com/tw' },
      { body: 'From=%2B1555&Body=hi', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
      (res) => expect(data(res)).toEqual({ From: '+1555', Body: 'hi' }),
    ],
    [
      'twilio (JSON, with a query)',
      { type: 'twilio', authToken: 'at', url: 'https://hooks.example.com/tw' },
      { body: '{"a":1}', query: 'x=1' },
      (res) => expect(data(res)).toEqual({ a: 1 }),
    ],
    [
      'template',
      {
        type: 'template',
        secret: 'ps',
        header: 'X-Sig',
        message: '{timestamp}.{id}.{url}.{body}',
        timestampHeader: 'X-Ts',
        idHeader: 'X-Id',
      },
      { body: '{"a":1}', query: 'q=2', path: '' },
      (res) => expect(data(res)).toEqual({ a: 1 }),
    ],
    [
      'template with the Paddle preset (timestamp and signature in one header)',
      {
        type: 'template',
        secret: 'pdl',
        ...TEMPLATE_PRESETS.find((p) => p.id === 'paddle')?.settings,
        preset: 'paddle',
      },
      { body: '{"event_type":"transaction.paid"}' },
      (res) => expect(data(res)).toEqual({ event_type: 'transaction.paid' }),
    ],
    [
      'standard',
      { type: 'standard', secret: `whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}` },
      { body: '{"a":1}' },
      (res) => expect(data(res)).toEqual({ a: 1 }),
    ],
  ];
  for (const [name, verification, values, check] of cases) {
    it(`${name}: the signed test request passes verification and runs`, async () => {
      const res = await trial(verification, values);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.status, JSON.stringify(res.body.data)).toBe(200);
      check(res);
    });
  }

  const handshakes: Array<[string, Record<string, unknown>, (answer: any) => void]> = [
    ['wecom', { type: 'wecom', token: 'tk', encodingAESKey: AES }, (a) => expect(a.body).toMatch(/\S/)],
    ['meta', { type: 'meta', secret: 'app', verifyToken: 'v' }, (a) => expect(a.body).toMatch(/^[0-9a-f]{12}$/)],
    ['slack', { type: 'slack', secret: 's' }, (a) => expect(JSON.stringify(a.body)).toContain('challenge')],
    ['zoom', { type: 'zoom', secret: 'zs' }, (a) => expect(JSON.stringify(a.body)).toContain('encryptedToken')],
    ['twitch', { type: 'twitch', secret: 'ts' }, (a) => expect(a.body).toMatch(/^[0-9a-f]{16}$/)],
    [
      'feishu',
      { type: 'feishu', verificationToken: 'vt', encryptKey: 'ek' },
      (a) => expect(JSON.stringify(a.body)).toContain('challenge'),
    ],
    ['msgraph', { type: 'msgraph', clientState: 'cs' }, (a) => expect(a.body).toMatch(/^Validation: /)],
    [
      'dingtalk',
      { type: 'dingtalk', token: 'tk', aesKey: AES, ownerKey: 'dingapp' },
      (a) => expect(JSON.stringify(a.body)).toContain('msg_signature'),
    ],
  ];
  for (const [name, verification, check] of handshakes) {
    it(`${name}: the admin can try the handshake; it is answered and logged as one`, async () => {
      const res = await trial(verification, { handshake: true });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.status, JSON.stringify(res.body.data)).toBe(200);
      check(res.body.data);
      const [row] = await waitForDeliveries(t.app, { id: res.body.data.deliveryId });
      expect(row).toMatchObject({ test: true, handshake: true, errorCode: null, executionId: null });
    });
  }

  it('a scheme without a handshake says so', async () => {
    const res = await trial({ type: 'github', secret: 's' }, { handshake: true });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ code: 'TEST_NO_HANDSHAKE' });
  });

  it('Discord and a whpk_ key cannot be signed: a coded answer, in the admin’s language', async () => {
    const discord = await trial({ type: 'discord', publicKey: 'ab'.repeat(32) }, { body: '{"type":1}' });
    expect(discord.status).toBe(400);
    expect(discord.body.errors[0].code).toBe('TEST_CANNOT_BE_SIGNED');
    expect(discord.body.errors[0].message).toContain('public key');
    const key = `whpk_${randomBytes(32).toString('base64')}`;
    const workflow = await createWebhookWorkflow(t.app, {
      sync: true,
      enabled: false,
      config: { key: 'whpk-test', verification: { type: 'standard', secret: key } },
    });
    const french = await agent
      .post(`/api/${DELIVERIES}:test?workflowId=${workflow.id}`)
      .set('X-Locale', 'fr-FR')
      .send({ body: '{}' });
    expect(french.status).toBe(400);
    expect(french.body.errors[0].code).toBe('TEST_CANNOT_BE_SIGNED');
    expect(french.body.errors[0].message).toContain('standard');
    expect(french.body.errors[0].message).not.toContain('cannot be signed');
  });

  it('the body hash is the one of the sent body (twilio), independent of our verifier', () => {
    const body = '{"a":1}';
    const signed = signRequest(
      { type: 'twilio', authToken: 'at', url: 'https://x.example/tw' },
      Buffer.from(body),
      NOW,
      context(),
    );
    expect(signed.query?.bodySHA256).toBe(createHash('sha256').update(body).digest('hex'));
  });
});
