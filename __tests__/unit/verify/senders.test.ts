import { createCipheriv, createHash, createHmac, sign as edSign, generateKeyPairSync } from 'node:crypto';
import { AESCipher } from '@larksuiteoapi/node-sdk';
import { getSignature, decrypt as wecomDecrypt, encrypt as wecomEncrypt } from '@wecom/crypto';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../../src/server/answer';
import { checkSender, type SenderRequest, validateVerification } from '../../../src/server/verify';
import { decryptFeishu } from '../../../src/server/verify/feishu';
import { openEnvelope, sealEnvelope } from '../../../src/server/verify/wxcrypt';
import { fails, NOW, nodeHeaders, passes } from './helpers';

// One describe per verifier file added with issue 12; the route test covers them end to end.
const request = (extra: Partial<SenderRequest>): SenderRequest => ({
  method: 'POST',
  headers: {},
  query: {},
  querystring: '',
  url: 'https://hooks.example/api/webhooks/k',
  raw: Buffer.alloc(0),
  nowSeconds: NOW,
  ...extra,
});
const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(WebhookError);
    return (e as WebhookError).code;
  }
  return null;
};

describe('wecom (wxcrypt.ts, wecom.ts)', () => {
  // WeCom's published sample (developer.work.weixin.qq.com/document/path/90968).
  const DOC = {
    token: 'QDG6eK',
    encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    corpId: 'wx5823bf96d3bd56c7',
    echo: {
      msg_signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
      timestamp: '1409659589',
      nonce: '263014780',
      echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    },
    post: {
      msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6',
      timestamp: '1409659813',
      nonce: '1372623149',
      encrypt:
        'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
    },
  };
  const config = { type: 'wecom', token: DOC.token, encodingAESKey: DOC.encodingAESKey, receiveId: DOC.corpId };

  it("answers the sample URL check and opens the sample message, as WeCom's documentation says", () => {
    const echo = checkSender(config, request({ method: 'GET', query: DOC.echo }), { handshakeOnly: true });
    expect(echo.handshake?.body).toBe(wecomDecrypt(DOC.encodingAESKey, DOC.echo.echostr).message);
    const { encrypt, ...query } = DOC.post;
    const raw = Buffer.from(
      `<xml><ToUserName><![CDATA[${DOC.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`,
    );
    const event = checkSender(config, request({ query, raw }));
    expect(event.handshake).toBeNull();
    expect(event.handshake === null && event.decrypted?.data).toMatchObject({
      ToUserName: DOC.corpId,
      MsgType: 'text',
      Content: 'hello',
      MsgId: '4561255354251345929',
    });
    expect(codeOf(() => checkSender(config, request({ query: { ...query, nonce: '1' }, raw })))).toBe(
      'SIGNATURE_INVALID',
    );
    expect(codeOf(() => checkSender({ ...config, receiveId: 'other' }, request({ query, raw })))).toBe('UNAUTHORIZED');
    expect(codeOf(() => checkSender({ ...config, receiveId: '' }, request({ query, raw })))).toBeNull();
  });

  it('seals what @wecom/crypto opens and opens what it seals; a rotation tries every key', () => {
    const sealed = sealEnvelope(DOC.encodingAESKey, '你好 message', 'corp');
    expect(wecomDecrypt(DOC.encodingAESKey, sealed)).toMatchObject({ message: '你好 message', id: 'corp' });
    const theirs = wecomEncrypt(DOC.encodingAESKey, '<xml/>', 'corp');
    const other = 'A'.repeat(43);
    expect(openEnvelope([other, DOC.encodingAESKey], theirs, 'corp').message.toString()).toBe('<xml/>');
    expect(codeOf(() => openEnvelope([other], theirs, 'corp'))).toBe('INVALID_BODY');
    expect(codeOf(() => openEnvelope([DOC.encodingAESKey], 'not base64!', undefined))).toBe('INVALID_BODY');
    expect(getSignature('a', 'b', 'c', 'd')).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('feishu (feishu.ts)', () => {
  const key = 'test key';
  const seal = (plain: string) => {
    const iv = Buffer.alloc(16, 7);
    const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
    return Buffer.concat([iv, cipher.update(plain), cipher.final()]).toString('base64');
  };
  const config = { type: 'feishu', verificationToken: 'vt', encryptKey: key };

  it('decrypts as the Lark SDK does', () => {
    const sealed = seal('{"a":"飞书"}');
    expect(new AESCipher(key).decrypt(sealed)).toBe('{"a":"飞书"}');
    expect(decryptFeishu(key, sealed)).toBe('{"a":"飞书"}');
    expect(decryptFeishu('wrong', sealed)).not.toBe('{"a":"飞书"}');
  });

  it('url_verification needs the token only; events need signature and token', () => {
    const challenge = JSON.stringify({ encrypt: seal('{"type":"url_verification","challenge":"c","token":"vt"}') });
    expect(checkSender(config, request({ raw: Buffer.from(challenge) })).handshake?.body).toEqual({ challenge: 'c' });
    const wrong = JSON.stringify({ type: 'url_verification', challenge: 'c', token: 'no' });
    expect(codeOf(() => checkSender(config, request({ raw: Buffer.from(wrong) })))).toBe('UNAUTHORIZED');
    const body = JSON.stringify({ encrypt: seal('{"schema":"2.0","header":{"token":"vt"},"event":{}}') });
    const headers = nodeHeaders({
      'X-Lark-Request-Timestamp': '1',
      'X-Lark-Request-Nonce': 'n',
      'X-Lark-Signature': createHash('sha256').update(`1n${key}${body}`).digest('hex'),
    });
    const ok = checkSender(config, request({ headers, raw: Buffer.from(body) }));
    expect(ok.handshake === null && ok.decrypted?.data).toEqual({ schema: '2.0', header: { token: 'vt' }, event: {} });
    passes(config, headers, body);
    fails('SIGNATURE_INVALID', config, headers, `${body} `);
  });
});

describe('dingtalk (dingtalk.ts)', () => {
  const aesKey = 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus';
  const config = { type: 'dingtalk', token: 'tk', aesKey, ownerKey: 'suiteKey' };
  const post = (payload: string, owner = 'suiteKey') => {
    const encrypt = wecomEncrypt(aesKey, payload, owner);
    const query = { signature: getSignature('tk', '1', 'n', encrypt), timestamp: '1', nonce: 'n' };
    return request({ query, raw: Buffer.from(JSON.stringify({ encrypt })) });
  };

  it("opens the example of DingTalk's documentation (token 123456, suite4xxxxxxxxxxxxxxx)", () => {
    const doc = {
      type: 'dingtalk',
      token: '123456',
      aesKey: '4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij',
      ownerKey: 'suite4xxxxxxxxxxxxxxx',
    };
    const encrypt =
      '1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==';
    const query = {
      signature: '5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0',
      timestamp: '1445827045067',
      nonce: 'nEXhMP4r',
    };
    const outcome = checkSender(doc, request({ query, raw: Buffer.from(JSON.stringify({ encrypt })) }));
    expect(outcome.handshake === null && outcome.decrypted?.data).toEqual({
      EventType: 'check_create_suite_url',
      Random: 'LPIdSnlF',
      TestSuiteKey: 'suite4xxxxxxxxxxxxxxx',
    });
    const forged = { ...query, signature: '5a65ceeef9aab2d149439f82dc191dd6c5cbe2c1' };
    expect(
      codeOf(() => checkSender(doc, request({ query: forged, raw: Buffer.from(JSON.stringify({ encrypt })) }))),
    ).toBe('SIGNATURE_INVALID');
  });

  it('check_url gets the encrypted success; events are opened; another owner is refused', () => {
    const answer = checkSender(config, post('{"EventType":"check_url"}')).handshake?.body as Record<string, string>;
    expect(wecomDecrypt(aesKey, answer.encrypt)).toMatchObject({ message: 'success', id: 'suiteKey' });
    expect(answer.msg_signature).toBe(getSignature('tk', answer.timeStamp, answer.nonce, answer.encrypt));
    const event = checkSender(config, post('{"EventType":"org_dept_create"}'));
    expect(event.handshake === null && event.decrypted?.data).toEqual({ EventType: 'org_dept_create' });
    expect(event.handshake === null && event.acknowledge?.().status).toBe(200);
    expect(codeOf(() => checkSender(config, post('{}', 'other')))).toBe('UNAUTHORIZED');
    expect(codeOf(() => checkSender(config, post('not json')))).toBe('INVALID_BODY');
  });
});

describe('dingtalk-robot (dingtalk-robot.ts)', () => {
  const config = { type: 'dingtalk-robot', secret: 'SECxyz' };
  const sign = (ts: number, secret = 'SECxyz') => ({
    timestamp: String(ts),
    sign: createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64'),
  });
  it('checks sign and the one-hour window', () => {
    passes(config, sign(NOW * 1000), '{}');
    passes(config, sign((NOW - 3600) * 1000), '{}');
    fails('TIMESTAMP_OUT_OF_TOLERANCE', config, sign((NOW - 3601) * 1000), '{}');
    fails('SIGNATURE_INVALID', config, sign(NOW * 1000, 'other'), '{}');
    fails('SIGNATURE_INVALID', config, {}, '{}');
  });
});

describe('meta, zoom, twitch, discord, msgraph', () => {
  it('meta: hub challenge by verify token (403 otherwise), X-Hub-Signature-256 per event', () => {
    const config = { type: 'meta', secret: 's', verifyToken: 'vt' };
    const query = { 'hub.mode': 'subscribe', 'hub.verify_token': 'vt', 'hub.challenge': '42' };
    expect(checkSender(config, request({ method: 'GET', query })).handshake?.body).toBe('42');
    let error: unknown;
    try {
      checkSender(config, request({ method: 'GET', query: { ...query, 'hub.verify_token': 'x' } }));
    } catch (e) {
      error = e;
    }
    expect((error as WebhookError).status).toBe(403);
    expect((error as WebhookError).code).toBe('UNAUTHORIZED');
    passes(config, { 'x-hub-signature-256': `sha256=${createHmac('sha256', 's').update('{}').digest('hex')}` }, '{}');
  });

  it('zoom: the url_validation answer is keyed with the secret that signed', () => {
    const body = '{"event":"endpoint.url_validation","payload":{"plainToken":"p"}}';
    const headers = {
      'x-zm-request-timestamp': String(NOW),
      'x-zm-signature': `v0=${createHmac('sha256', 'zoom-current-secret').update(`v0:${NOW}:${body}`).digest('hex')}`,
    };
    const config = { type: 'zoom', secret: ['zoom-previous-secret', 'zoom-current-secret'] };
    const answer = checkSender(config, request({ headers, raw: Buffer.from(body) })).handshake?.body;
    expect(answer).toEqual({
      plainToken: 'p',
      encryptedToken: createHmac('sha256', 'zoom-current-secret').update('p').digest('hex'),
    });
    fails('TIMESTAMP_OUT_OF_TOLERANCE', config, headers, body, NOW + 301);
  });

  it('twitch: signature over id, timestamp and body; 10 minutes', () => {
    const ts = new Date(NOW * 1000).toISOString();
    const headers = nodeHeaders({
      'Twitch-Eventsub-Message-Id': 'm1',
      'Twitch-Eventsub-Message-Timestamp': ts,
      'Twitch-Eventsub-Message-Signature': `sha256=${createHmac('sha256', 'twitch-secret-1').update(`m1${ts}{}`).digest('hex')}`,
    });
    passes({ type: 'twitch', secret: 'twitch-secret-1' }, headers, '{}', NOW + 600);
    fails('TIMESTAMP_OUT_OF_TOLERANCE', { type: 'twitch', secret: 'twitch-secret-1' }, headers, '{}', NOW + 601);
    fails('SIGNATURE_INVALID', { type: 'twitch', secret: 'twitch-secret-2' }, headers, '{}');
  });

  it('discord: Ed25519 over timestamp and body', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
    const headers = {
      'x-signature-timestamp': '123',
      'x-signature-ed25519': edSign(null, Buffer.from('123{"type":1}'), privateKey).toString('hex'),
    };
    passes({ type: 'discord', publicKey: hex }, headers, '{"type":1}');
    fails('SIGNATURE_INVALID', { type: 'discord', publicKey: hex }, headers, '{"type":2}');
    expect(validateVerification({ type: 'discord', publicKey: 'xyz' })).toHaveProperty('publicKey');
  });

  it('msgraph: validationToken echoed; clientState on every item', () => {
    const config = { type: 'msgraph', clientState: ['old', 'cs'] };
    expect(checkSender(config, request({ query: { validationToken: 'v t' } })).handshake?.body).toBe('v t');
    passes(config, {}, '{"value":[{"clientState":"cs"},{"clientState":"old"}]}');
    fails('UNAUTHORIZED', config, {}, '{"value":[{"clientState":"cs"},{}]}');
  });
});

describe('twilio, template, validation', () => {
  it('twilio: a form post signed by the twilio library', () => {
    // Signed by the twilio library (its oracle), over the URL and parameters of Twilio's docs.
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+12349013030',
      Digits: '1234',
      From: '+12349013030',
      To: '+18005551212',
    };
    const signature = twilio.getExpectedTwilioSignature('12345', url, params);
    expect(twilio.validateRequest('12345', signature, url, params)).toBe(true);
    const headers = { 'x-twilio-signature': signature, 'content-type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams(params).toString();
    passes({ type: 'twilio', authToken: '12345', url }, headers, body);
    fails('SIGNATURE_INVALID', { type: 'twilio', authToken: '12345', url: `${url}&x=1` }, headers, body);
  });

  it('template: {url}{body} with sha1 base64', () => {
    const config = {
      type: 'template',
      secret: 'k',
      header: 'X-Sig',
      algorithm: 'sha1',
      encoding: 'base64',
      message: '{url}{body}',
    };
    const url = 'https://hooks.example/api/webhooks/k';
    const headers = { 'x-sig': createHmac('sha1', 'k').update(`${url}{}`).digest('base64') };
    expect(codeOf(() => checkSender(config, request({ headers, raw: Buffer.from('{}'), url })))).toBeNull();
    expect(codeOf(() => checkSender(config, request({ headers, raw: Buffer.from('{}'), url: `${url}/x` })))).toBe(
      'SIGNATURE_INVALID',
    );
    expect(validateVerification({ ...config, message: '{timestamp}' })).toHaveProperty('message');
  });

  it('validates the new types', () => {
    expect(validateVerification({ type: 'wecom', token: 't', encodingAESKey: 'short' })).toHaveProperty(
      'encodingAESKey',
    );
    expect(validateVerification({ type: 'dingtalk', token: 't', aesKey: 'a'.repeat(43) })).toHaveProperty('ownerKey');
    expect(validateVerification({ type: 'feishu' })).toHaveProperty('verificationToken');
    expect(validateVerification({ type: 'twilio', authToken: 'x', url: 'ftp://x' })).toHaveProperty('url');
    expect(
      validateVerification({ type: 'standard', secret: `whpk_${Buffer.alloc(32).toString('base64')}` }),
    ).toBeNull();
    expect(validateVerification({ type: 'meta', secret: 's', verifyToken: ['a', 'b'] })).toBeNull();
  });
});
