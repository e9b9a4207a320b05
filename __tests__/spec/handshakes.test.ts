import { createCipheriv, createHash, createHmac, sign as edSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { AESCipher } from '@larksuiteoapi/node-sdk';
import { decrypt as wecomDecrypt, encrypt as wecomEncrypt, getSignature as wecomSignature } from '@wecom/crypto';
import { verifyKey } from 'discord-interactions';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { expectError, type RawResponse, rawRequest } from '../helpers/http';
import { createWebhookWorkflow, waitForDeliveries, waitForExecutions } from '../helpers/workflows';

// SPEC.md "Senders with a handshake, and more schemes".

// ---------------------------------------------------------------------------------------------
// SPEC.md "Senders with a handshake, and more schemes", through the real route: handshakes are
// answered by the plugin with no execution and a `handshake: true` row; events are verified (and
// decrypted) into $context.data; forged ones are 401 and malformed envelopes 400, starting nothing.
const echo = [{ type: 'output', config: { value: '{{$context.data}}' } }];

describe('senders with a handshake on /api/webhooks/:key', () => {
  let t: TestApp;
  let origin: string;
  const count = () => t.app.db.getRepository('executions').count();
  const keys = new Map<string, string>();

  /** A sync (`{name}`) and an async (`{name}-async`) webhook with the same verification. */
  async function pair(name: string, verification: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    for (const sync of [true, false]) {
      const key = sync ? name : `${name}-async`;
      const workflow = await createWebhookWorkflow(t.app, {
        sync,
        config: { key, verification, ...extra },
        nodes: sync ? echo : [],
      });
      keys.set(key, workflow.key);
    }
  }

  const send = (
    key: string,
    {
      method = 'POST',
      query = '',
      headers = {},
      body,
    }: { method?: string; query?: string; headers?: Record<string, string>; body?: string } = {},
  ) => rawRequest(origin, `/api/webhooks/${key}${query}`, { method, headers, body });

  /** A handshake: answered, nothing started, one `handshake: true` row without error. */
  async function expectHandshake(key: string, request: () => Promise<RawResponse>): Promise<RawResponse> {
    const before = await count();
    const existing = await waitForDeliveries(t.app, { workflowKey: keys.get(key), handshake: true }, 0, 0);
    const res = await request();
    const rows = await waitForDeliveries(t.app, { workflowKey: keys.get(key), handshake: true }, existing.length + 1);
    expect(rows.length).toBe(existing.length + 1);
    const row = rows[rows.length - 1];
    expect(row.errorCode).toBeNull();
    expect(row.executionId).toBeNull();
    expect(row.status).toBe(res.status);
    // The answer sent is logged with the row, as for any other delivery.
    expect(row.answer?.status).toBe(res.status);
    expect(await count()).toBe(before);
    return res;
  }

  /** A refused request: the error, and nothing started. */
  async function expectRefused(request: () => Promise<RawResponse>, status: number, code: string) {
    const before = await count();
    expectError(await request(), status, code);
    expect(await count()).toBe(before);
  }

  /** An accepted async event: its execution's $context.data. */
  async function asyncData(key: string, request: () => Promise<RawResponse>, status = 202) {
    const done = (await t.app.db.getRepository('executions').find({ filter: { key: keys.get(key) as string } })).length;
    const res = await request();
    expect(res.status, res.text).toBe(status);
    const rows = await waitForExecutions(t.app, keys.get(key) as string, done + 1);
    return { res, data: (rows[rows.length - 1].get('context') as any).data };
  }

  beforeAll(async () => {
    t = await createTestApp();
    origin = await t.listen();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('slack url_verification', () => {
    const secret = 'slack-signing-secret';
    const signed = (body: string, ts = Math.floor(Date.now() / 1000)) => ({
      'Content-Type': 'application/json',
      'X-Slack-Request-Timestamp': String(ts),
      'X-Slack-Signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
    });
    beforeAll(() => pair('slack', { type: 'slack', secret }));

    it('answers the signed challenge in sync and async mode, and refuses an unsigned one', async () => {
      const body = JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' });
      for (const key of ['slack', 'slack-async']) {
        const res = await expectHandshake(key, () => send(key, { headers: signed(body), body }));
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ challenge: 'c-123' });
        await expectRefused(
          () => send(key, { headers: { ...signed(body), 'X-Slack-Signature': 'v0=00' }, body }),
          401,
          'SIGNATURE_INVALID',
        );
      }
      const event = JSON.stringify({ type: 'event_callback', event: { type: 'app_mention' } });
      const res = await send('slack', { headers: signed(event), body: event });
      expect(res.body).toEqual({ type: 'event_callback', event: { type: 'app_mention' } });
    });

    it('a url_verification body on a webhook of another type is just a request', async () => {
      const w = await createWebhookWorkflow(t.app, { sync: true, config: { key: 'plain' }, nodes: echo });
      const body = JSON.stringify({ challenge: 'c', type: 'url_verification' });
      const res = await send('plain', { headers: { 'Content-Type': 'application/json' }, body });
      expect(res.body).toEqual({ challenge: 'c', type: 'url_verification' });
      // A run slower than 250 ms has its row written early, then completed: wait for the answer.
      const rows = await waitForDeliveries(t.app, { workflowKey: w.key, status: 200 });
      expect(rows[0].handshake).toBe(false);
      expect(rows[0].executionId).not.toBeNull();
    });
  });

  describe('wecom', () => {
    const token = 'QDG6eK';
    const encodingAESKey = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
    const corpId = 'wx5823bf96d3bd56c7';
    const verification = { type: 'wecom', token, encodingAESKey, receiveId: corpId };
    const message =
      '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[mycreate]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>4561255354251345929</MsgId><AgentID>218</AgentID></xml>';
    const signedQuery = (encrypt: string, extra = '') => {
      const timestamp = '1409659813';
      const nonce = '1372623149';
      const sig = wecomSignature(token, timestamp, nonce, encrypt);
      return `?msg_signature=${sig}&timestamp=${timestamp}&nonce=${nonce}${extra}`;
    };
    const envelope = (encrypt: string) =>
      `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`;
    beforeAll(() => pair('wecom', verification));

    it('answers the GET URL check with the decrypted echostr (GET allowed for it alone)', async () => {
      const echostr = wecomEncrypt(encodingAESKey, '1616140317555161061', corpId);
      for (const key of ['wecom', 'wecom-async']) {
        const query = signedQuery(echostr, `&echostr=${encodeURIComponent(echostr)}`);
        const res = await expectHandshake(key, () => send(key, { method: 'GET', query }));
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text).toBe('1616140317555161061');
        const forged = `${signedQuery(echostr).replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'0'.repeat(40)}`)}&echostr=${encodeURIComponent(echostr)}`;
        await expectRefused(() => send(key, { method: 'GET', query: forged }), 401, 'SIGNATURE_INVALID');
        // GET is not among the webhook's methods: only the handshake may use it.
        await expectRefused(() => send(key, { method: 'GET' }), 405, 'METHOD_NOT_ALLOWED');
      }
    });

    it('decrypts an event into $context.data (sync and async; async answers an empty 200)', async () => {
      const encrypt = wecomEncrypt(encodingAESKey, message, corpId);
      expect(wecomDecrypt(encodingAESKey, encrypt).message).toBe(message);
      const request = (key: string) => () =>
        send(key, { query: signedQuery(encrypt), headers: { 'Content-Type': 'text/xml' }, body: envelope(encrypt) });
      const expected = {
        ToUserName: corpId,
        FromUserName: 'mycreate',
        CreateTime: '1409659813',
        MsgType: 'text',
        Content: 'hello',
        MsgId: '4561255354251345929',
        AgentID: '218',
      };
      const res = await request('wecom')();
      expect(res.status).toBe(200);
      expect(res.body).toEqual(expected);
      const { res: ack, data } = await asyncData('wecom-async', request('wecom-async'), 200);
      expect(ack.text).toBe('');
      expect(data).toEqual(expected);
      const rows = await waitForDeliveries(t.app, { workflowKey: keys.get('wecom'), status: 200, handshake: false });
      expect(rows[0].body).toContain('<Encrypt>');
    });

    it('refuses a wrong signature (401), another CorpID (401), a malformed envelope (400)', async () => {
      const encrypt = wecomEncrypt(encodingAESKey, message, corpId);
      for (const key of ['wecom', 'wecom-async']) {
        const headers = { 'Content-Type': 'text/xml' };
        await expectRefused(
          () =>
            send(key, {
              query: signedQuery(encrypt),
              headers,
              body: envelope(`${encrypt[0] === 'A' ? 'B' : 'A'}${encrypt.slice(1)}`),
            }),
          401,
          'SIGNATURE_INVALID',
        );
        await expectRefused(() => send(key, { headers, body: envelope(encrypt) }), 401, 'SIGNATURE_INVALID');
        const other = wecomEncrypt(encodingAESKey, message, 'wwanothercorp');
        await expectRefused(
          () => send(key, { query: signedQuery(other), headers, body: envelope(other) }),
          401,
          'UNAUTHORIZED',
        );
        await expectRefused(
          () => send(key, { query: signedQuery(''), headers, body: '<xml><Encrypt>' }),
          400,
          'INVALID_BODY',
        );
        const junk = randomBytes(48).toString('base64');
        await expectRefused(
          () => send(key, { query: signedQuery(junk), headers, body: envelope(junk) }),
          400,
          'INVALID_BODY',
        );
      }
    });
  });

  describe('feishu', () => {
    const verificationToken = 'v-token-feishu';
    const encryptKey = 'feishu-encrypt-key';
    /** Feishu's encryption (checked against the SDK's AESCipher below). */
    const encrypt = (plain: string, key = encryptKey) => {
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
      return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
    };
    const signed = (body: string, key = encryptKey) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const nonce = 'n-1';
      return {
        'Content-Type': 'application/json',
        'X-Lark-Request-Timestamp': ts,
        'X-Lark-Request-Nonce': nonce,
        'X-Lark-Signature': createHash('sha256')
          .update(ts + nonce + key + body)
          .digest('hex'),
      };
    };
    const event = {
      schema: '2.0',
      header: { event_id: 'e1', event_type: 'im.message.receive_v1', token: verificationToken },
      event: { message: { content: '{"text":"hi"}' } },
    };
    beforeAll(async () => {
      await pair('feishu', { type: 'feishu', verificationToken, encryptKey });
      await pair('feishu-plain', { type: 'feishu', verificationToken });
    });

    it('answers url_verification, plain or encrypted, by its token alone', async () => {
      const plain = { type: 'url_verification', challenge: 'ch-1', token: verificationToken };
      const inner = encrypt(JSON.stringify(plain));
      expect(JSON.parse(new AESCipher(encryptKey).decrypt(inner))).toEqual(plain);
      for (const key of ['feishu', 'feishu-async', 'feishu-plain', 'feishu-plain-async']) {
        const body = key.startsWith('feishu-plain') ? JSON.stringify(plain) : JSON.stringify({ encrypt: inner });
        const res = await expectHandshake(key, () =>
          send(key, { headers: { 'Content-Type': 'application/json' }, body }),
        );
        expect(res.body).toEqual({ challenge: 'ch-1' });
        const wrong = JSON.stringify({ ...plain, token: 'guess' });
        await expectRefused(
          () => send(key, { headers: { 'Content-Type': 'application/json' }, body: wrong }),
          401,
          'UNAUTHORIZED',
        );
      }
    });

    it('verifies X-Lark-Signature, decrypts the event and checks header.token', async () => {
      const body = JSON.stringify({ encrypt: encrypt(JSON.stringify(event)) });
      const res = await send('feishu', { headers: signed(body), body });
      expect(res.body).toEqual(event);
      const { data } = await asyncData('feishu-async', () => send('feishu-async', { headers: signed(body), body }));
      expect(data).toEqual(event);
      const plain = JSON.stringify(event);
      expect(
        (await send('feishu-plain', { headers: { 'Content-Type': 'application/json' }, body: plain })).body,
      ).toEqual(event);
    });

    it('refuses a forged signature, a wrong token, an undecryptable envelope', async () => {
      const body = JSON.stringify({ encrypt: encrypt(JSON.stringify(event)) });
      for (const key of ['feishu', 'feishu-async']) {
        await expectRefused(() => send(key, { headers: signed(body, 'other'), body }), 401, 'SIGNATURE_INVALID');
        const stranger = JSON.stringify({ encrypt: encrypt(JSON.stringify({ ...event, header: { token: 'x' } })) });
        await expectRefused(() => send(key, { headers: signed(stranger), body: stranger }), 401, 'UNAUTHORIZED');
        const junk = JSON.stringify({ encrypt: encrypt(JSON.stringify(event), 'another-key') });
        await expectRefused(() => send(key, { headers: signed(junk), body: junk }), 400, 'INVALID_BODY');
        // An envelope nobody can open, unsigned: the signature is what fails first.
        await expectRefused(() => send(key, { headers: signed(junk, 'other'), body: junk }), 401, 'SIGNATURE_INVALID');
        await expectRefused(
          () => send(key, { headers: signed('{"encrypt":'), body: '{"encrypt":' }),
          400,
          'INVALID_BODY',
        );
      }
      const forged = JSON.stringify({ ...event, header: { ...event.header, token: 'x' } });
      await expectRefused(
        () => send('feishu-plain', { headers: { 'Content-Type': 'application/json' }, body: forged }),
        401,
        'UNAUTHORIZED',
      );
    });
  });

  describe('dingtalk', () => {
    const token = 'dingtalk-token';
    const aesKey = 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus';
    const ownerKey = 'suite4xxxxxxxxxxxxxxx';
    const verification = { type: 'dingtalk', token, aesKey, ownerKey };
    // DingTalk's crypto is WeCom's: @wecom/crypto seals and opens it, over JSON.
    const signedQuery = (encrypt: string) => {
      const timestamp = String(Date.now());
      const nonce = 'nonce123';
      return `?signature=${wecomSignature(token, timestamp, nonce, encrypt)}&timestamp=${timestamp}&nonce=${nonce}`;
    };
    const post = (key: string, payload: unknown, owner = ownerKey) => {
      const encrypt = wecomEncrypt(aesKey, JSON.stringify(payload), owner);
      return () =>
        send(key, {
          query: signedQuery(encrypt),
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ encrypt }),
        });
    };
    /** The encrypted `success` DingTalk expects, opened and checked. */
    const expectSuccess = (res: RawResponse) => {
      expect(res.status).toBe(200);
      const { msg_signature, timeStamp, nonce, encrypt } = res.body;
      expect(msg_signature).toBe(wecomSignature(token, timeStamp, nonce, encrypt));
      const opened = wecomDecrypt(aesKey, encrypt);
      expect(opened.message).toBe('success');
      expect(opened.id).toBe(ownerKey);
    };
    beforeAll(() => pair('dingtalk', verification));

    it('answers check_url with the encrypted success, sync and async', async () => {
      for (const key of ['dingtalk', 'dingtalk-async']) {
        expectSuccess(await expectHandshake(key, post(key, { EventType: 'check_url' })));
      }
    });

    it('decrypts an event into $context.data; async answers the encrypted success', async () => {
      const payload = { EventType: 'user_add_org', UserId: ['u1'], CorpId: 'ding1', TimeStamp: '1' };
      expect((await post('dingtalk', payload)()).body).toEqual(payload);
      const { res, data } = await asyncData('dingtalk-async', post('dingtalk-async', payload), 200);
      expectSuccess(res);
      expect(data).toEqual(payload);
    });

    it('refuses a wrong signature, another owner key, a malformed envelope', async () => {
      for (const key of ['dingtalk', 'dingtalk-async']) {
        const encrypt = wecomEncrypt(aesKey, '{"EventType":"check_url"}', ownerKey);
        const headers = { 'Content-Type': 'application/json' };
        const forged = signedQuery(encrypt).replace(/signature=[0-9a-f]+/, `signature=${'1'.repeat(40)}`);
        await expectRefused(
          () => send(key, { query: forged, headers, body: JSON.stringify({ encrypt }) }),
          401,
          'SIGNATURE_INVALID',
        );
        await expectRefused(post(key, { EventType: 'check_url' }, 'another-suite'), 401, 'UNAUTHORIZED');
        await expectRefused(() => send(key, { query: signedQuery(''), headers, body: '[1]' }), 400, 'INVALID_BODY');
        const junk = randomBytes(64).toString('base64');
        await expectRefused(
          () => send(key, { query: signedQuery(junk), headers, body: JSON.stringify({ encrypt: junk }) }),
          400,
          'INVALID_BODY',
        );
      }
    });
  });

  describe('dingtalk-robot', () => {
    const secret = 'SECd3adb33f';
    const headers = (ts: number, key = secret) => ({
      'Content-Type': 'application/json',
      timestamp: String(ts),
      sign: createHmac('sha256', key).update(`${ts}\n${key}`).digest('base64'),
      token: 'legacy-outgoing-token',
    });
    beforeAll(() => pair('robot', { type: 'dingtalk-robot', secret }));

    it('accepts a signed message (the legacy token header redacted); refuses a wrong or hour-old sign', async () => {
      const body = JSON.stringify({ msgtype: 'text', text: { content: 'hi' } });
      expect((await send('robot', { headers: headers(Date.now()), body })).body).toEqual(JSON.parse(body));
      const { data } = await asyncData('robot-async', () =>
        send('robot-async', { headers: headers(Date.now()), body }),
      );
      expect(data).toEqual(JSON.parse(body));
      const rows = await t.app.db
        .getRepository('executions')
        .find({ filter: { key: keys.get('robot-async') as string } });
      expect((rows[0].get('context') as any).headers.token).toBe('[redacted]');
      await expectRefused(
        () => send('robot', { headers: headers(Date.now(), 'wrong'), body }),
        401,
        'SIGNATURE_INVALID',
      );
      await expectRefused(
        () => send('robot', { headers: headers(Date.now() - 3601_000), body }),
        401,
        'TIMESTAMP_OUT_OF_TOLERANCE',
      );
    });
  });

  describe('meta', () => {
    const secret = 'meta-app-secret';
    const verifyToken = 'meta-verify-token';
    beforeAll(() => pair('meta', { type: 'meta', secret, verifyToken }));

    it('answers the hub challenge (403 on a wrong token) and verifies X-Hub-Signature-256', async () => {
      for (const key of ['meta', 'meta-async']) {
        const query = `?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=1158201444`;
        const res = await expectHandshake(key, () => send(key, { method: 'GET', query }));
        expect(res.text).toBe('1158201444');
        await expectRefused(
          () => send(key, { method: 'GET', query: '?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1' }),
          403,
          'UNAUTHORIZED',
        );
      }
      const logged = await waitForDeliveries(t.app, { workflowKey: keys.get('meta'), handshake: true });
      expect(logged[0].path).not.toContain(verifyToken);
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
      const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      const json = { 'Content-Type': 'application/json' };
      expect((await send('meta', { headers: { ...json, 'X-Hub-Signature-256': sig }, body })).body).toEqual(
        JSON.parse(body),
      );
      await expectRefused(
        () => send('meta', { headers: { ...json, 'X-Hub-Signature-256': 'sha256=00' }, body }),
        401,
        'SIGNATURE_INVALID',
      );
    });
  });

  describe('zoom', () => {
    const secret = 'zoom-secret-token';
    const signed = (body: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      return {
        'Content-Type': 'application/json',
        'x-zm-request-timestamp': ts,
        'x-zm-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
      };
    };
    beforeAll(() => pair('zoom', { type: 'zoom', secret: ['older-zoom-secret', secret] }));

    it('answers endpoint.url_validation (signed) and verifies events', async () => {
      const body = JSON.stringify({
        event: 'endpoint.url_validation',
        payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' },
      });
      for (const key of ['zoom', 'zoom-async']) {
        const res = await expectHandshake(key, () => send(key, { headers: signed(body), body }));
        expect(res.body).toEqual({
          plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
          encryptedToken: createHmac('sha256', secret).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex'),
        });
        await expectRefused(
          () => send(key, { headers: { ...signed(body), 'x-zm-signature': 'v0=ab' }, body }),
          401,
          'SIGNATURE_INVALID',
        );
      }
      const event = JSON.stringify({ event: 'meeting.started', payload: { id: 1 } });
      expect((await send('zoom', { headers: signed(event), body: event })).body).toEqual(JSON.parse(event));
    });
  });

  describe('twitch', () => {
    const secret = 'twitch-eventsub-secret';
    const signed = (type: string, body: string) => {
      const id = randomBytes(8).toString('hex');
      const ts = new Date().toISOString();
      return {
        'Content-Type': 'application/json',
        'Twitch-Eventsub-Message-Id': id,
        'Twitch-Eventsub-Message-Timestamp': ts,
        'Twitch-Eventsub-Message-Type': type,
        'Twitch-Eventsub-Message-Signature': `sha256=${createHmac('sha256', secret)
          .update(id + ts + body)
          .digest('hex')}`,
      };
    };
    beforeAll(() => pair('twitch', { type: 'twitch', secret }));

    it('answers the callback verification, logs a revocation (204), runs notifications', async () => {
      const challenge = JSON.stringify({ challenge: 'pogchamp-kappa-360noscope-vohiyo', subscription: {} });
      const revocation = JSON.stringify({ subscription: { status: 'authorization_revoked' } });
      for (const key of ['twitch', 'twitch-async']) {
        const res = await expectHandshake(key, () =>
          send(key, { headers: signed('webhook_callback_verification', challenge), body: challenge }),
        );
        expect(res.text).toBe('pogchamp-kappa-360noscope-vohiyo');
        const revoked = await expectHandshake(key, () =>
          send(key, { headers: signed('revocation', revocation), body: revocation }),
        );
        expect(revoked.status).toBe(204);
        await expectRefused(
          () =>
            send(key, {
              headers: {
                ...signed('webhook_callback_verification', challenge),
                'Twitch-Eventsub-Message-Signature': 'sha256=00',
              },
              body: challenge,
            }),
          401,
          'SIGNATURE_INVALID',
        );
      }
      const note = JSON.stringify({ event: { broadcaster_user_id: '1337' } });
      expect((await send('twitch', { headers: signed('notification', note), body: note })).body).toEqual(
        JSON.parse(note),
      );
    });
  });

  describe('discord', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const hexKey = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
    const signed = (body: string, key = privateKey) => {
      const ts = String(Math.floor(Date.now() / 1000));
      return {
        'Content-Type': 'application/json',
        'X-Signature-Timestamp': ts,
        'X-Signature-Ed25519': edSign(null, Buffer.from(ts + body), key).toString('hex'),
      };
    };
    beforeAll(() => pair('discord', { type: 'discord', publicKey: hexKey }));

    it('answers PING, runs interactions, refuses another key (discord-interactions agrees)', async () => {
      const ping = '{"type":1}';
      const headers = signed(ping);
      expect(await verifyKey(ping, headers['X-Signature-Ed25519'], headers['X-Signature-Timestamp'], hexKey)).toBe(
        true,
      );
      for (const key of ['discord', 'discord-async']) {
        const res = await expectHandshake(key, () => send(key, { headers: signed(ping), body: ping }));
        expect(res.body).toEqual({ type: 1 });
        const other = generateKeyPairSync('ed25519').privateKey;
        await expectRefused(() => send(key, { headers: signed(ping, other), body: ping }), 401, 'SIGNATURE_INVALID');
      }
      const command = JSON.stringify({ type: 2, data: { name: 'hello' } });
      expect((await send('discord', { headers: signed(command), body: command })).body).toEqual(JSON.parse(command));
    });
  });

  describe('msgraph', () => {
    const clientState = 'graph-client-state';
    beforeAll(() => pair('graph', { type: 'msgraph', clientState }));

    it('echoes validationToken, checks clientState of every notification', async () => {
      for (const key of ['graph', 'graph-async']) {
        const res = await expectHandshake(key, () =>
          send(key, {
            query: '?validationToken=Validation%3A%20Testing%20client%20application',
            headers: { 'Content-Type': 'text/plain' },
          }),
        );
        expect(res.text).toBe('Validation: Testing client application');
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
      }
      const body = (state: string) =>
        JSON.stringify({
          value: [{ subscriptionId: 's', clientState, changeType: 'created' }, { clientState: state }],
        });
      const json = { 'Content-Type': 'application/json' };
      const { data } = await asyncData('graph-async', () =>
        send('graph-async', { headers: json, body: body(clientState) }),
      );
      expect(data.value).toHaveLength(2);
      await expectRefused(() => send('graph', { headers: json, body: body('forged') }), 401, 'UNAUTHORIZED');
      await expectRefused(() => send('graph', { headers: json, body: '{"value":' }), 400, 'INVALID_BODY');
    });
  });

  describe('twilio', () => {
    const authToken = '12345';
    let url: string;
    beforeAll(async () => {
      url = `https://mycompany.example/api/webhooks/twilio?foo=1`;
      await pair('twilio', { type: 'twilio', authToken, url });
    });

    it('verifies form posts and JSON (bodySHA256) signed by the twilio library', async () => {
      const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030' };
      const body = new URLSearchParams(params).toString();
      const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
      expect(twilio.validateRequest(authToken, signature, url, params)).toBe(true);
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const res = await send('twilio', {
        query: '?foo=1',
        headers: { ...form, 'X-Twilio-Signature': signature },
        body,
      });
      expect(res.body).toEqual(params);
      await expectRefused(
        () =>
          send('twilio', {
            query: '?foo=1',
            headers: { ...form, 'X-Twilio-Signature': signature },
            body: `${body}&x=1`,
          }),
        401,
        'SIGNATURE_INVALID',
      );
      // JSON: Twilio adds bodySHA256 to the URL it signs; the configured URL has no query here.
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: {
          key: 'twilio-json',
          verification: { type: 'twilio', authToken, url: 'https://mycompany.example/hook' },
        },
        nodes: echo,
      });
      const json = '{"property": "value", "boolean": true}';
      const hash = createHash('sha256').update(json).digest('hex');
      const signedUrl = `https://mycompany.example/hook?bodySHA256=${hash}`;
      const sig = twilio.getExpectedTwilioSignature(authToken, signedUrl, {});
      expect(twilio.validateRequestWithBody(authToken, sig, signedUrl, json)).toBe(true);
      const headers = { 'Content-Type': 'application/json', 'X-Twilio-Signature': sig };
      const ok = await send('twilio-json', { query: `?bodySHA256=${hash}`, headers, body: json });
      expect(ok.body).toEqual({ property: 'value', boolean: true });
      await expectRefused(
        () => send('twilio-json', { query: `?bodySHA256=${hash}`, headers, body: json.replace('value', 'other') }),
        401,
        'SIGNATURE_INVALID',
      );
    });
  });

  describe('standard v1a and template', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const whpk = `whpk_${publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64')}`;
    beforeAll(async () => {
      await pair('std-v1a', { type: 'standard', secret: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', whpk] });
      await pair('tpl', {
        type: 'template',
        secret: 'tpl-secret',
        header: 'X-Signature',
        prefix: 't=',
        algorithm: 'sha512',
        encoding: 'base64',
        message: '{id}.{timestamp}.{body}',
        timestampHeader: 'X-Timestamp',
        idHeader: 'X-Id',
        toleranceSeconds: 60,
      });
    });

    it('standard: a v1a Ed25519 signature checks with the whpk_ key', async () => {
      const body = '{"type":"invoice.paid"}';
      const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = edSign(null, Buffer.from(`${id}.${ts}.${body}`), privateKey).toString('base64');
      const headers = { 'Content-Type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts };
      const res = await send('std-v1a', { headers: { ...headers, 'webhook-signature': `v1,AAAA v1a,${sig}` }, body });
      expect(res.body).toEqual({ type: 'invoice.paid' });
      await expectRefused(
        () => send('std-v1a', { headers: { ...headers, 'webhook-signature': `v1a,${sig}` }, body: '{"type":"x"}' }),
        401,
        'SIGNATURE_INVALID',
      );
    });

    it('template: the HMAC of the message built from the template', async () => {
      const body = '{"amount": 10}';
      const sign = (ts: number) => {
        const mac = createHmac('sha512', 'tpl-secret').update(`evt_1.${ts}.${body}`).digest('base64');
        return {
          'Content-Type': 'application/json',
          'X-Id': 'evt_1',
          'X-Timestamp': String(ts),
          'X-Signature': `t=${mac}`,
        };
      };
      const now = Math.floor(Date.now() / 1000);
      expect((await send('tpl', { headers: sign(now), body })).body).toEqual({ amount: 10 });
      await expectRefused(() => send('tpl', { headers: sign(now - 120), body }), 401, 'TIMESTAMP_OUT_OF_TOLERANCE');
      await expectRefused(
        () => send('tpl', { headers: { ...sign(now), 'X-Id': 'evt_2' }, body }),
        401,
        'SIGNATURE_INVALID',
      );
    });
  });
});
