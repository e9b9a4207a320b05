import { createHmac } from 'node:crypto';
import { describe, it } from 'vitest';
import { fails, NOW, nodeHeaders, passes } from './helpers';

// The example request of Slack's "Verifying requests from Slack" documentation.
const DOC = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

// Slack has no signing helper in our dependencies: other timestamps are signed with node:crypto.
const secret = 'slack-signing-secret';
const body = '{"type":"event_callback","event":{"type":"app_mention","text":"hi"}}';
const signed = (timestamp: number, key = secret, data = body) => ({
  'X-Slack-Request-Timestamp': String(timestamp),
  'X-Slack-Signature': `v0=${createHmac('sha256', key).update(`v0:${timestamp}:${data}`).digest('hex')}`,
});
const config = { type: 'slack', secret };

describe('slack', () => {
  it('matches the example of the Slack documentation', () => {
    const headers = nodeHeaders({ 'X-Slack-Request-Timestamp': DOC.timestamp, 'X-Slack-Signature': DOC.signature });
    passes({ type: 'slack', secret: DOC.secret }, headers, DOC.body, Number(DOC.timestamp) + 10);
    fails(
      'SIGNATURE_INVALID',
      { type: 'slack', secret: DOC.secret },
      headers,
      `${DOC.body}&x=1`,
      Number(DOC.timestamp),
    );
  });

  it('accepts a good request, header names in any case', () => {
    passes(config, nodeHeaders(signed(NOW)), body);
    passes(config, signed(NOW), body);
  });

  it('refuses a tampered body, a wrong secret, missing headers, a changed timestamp', () => {
    const good = signed(NOW);
    const expected = good['X-Slack-Signature'];
    fails('SIGNATURE_INVALID', config, nodeHeaders(good), body.replace('hi', 'ho'), NOW, [expected]);
    fails('SIGNATURE_INVALID', config, nodeHeaders(signed(NOW, 'wrong')), body, NOW, [expected]);
    fails('SIGNATURE_INVALID', config, { 'x-slack-request-timestamp': String(NOW) }, body);
    fails('SIGNATURE_INVALID', config, { 'x-slack-signature': expected }, body);
    fails('SIGNATURE_INVALID', config, nodeHeaders({ ...good, 'X-Slack-Request-Timestamp': String(NOW - 1) }), body);
    fails('SIGNATURE_INVALID', config, nodeHeaders({ ...good, 'X-Slack-Signature': expected.slice(3) }), body);
  });

  it('accepts any secret of a rotation', () => {
    const rotating = { type: 'slack', secret: ['old-secret', secret] };
    passes(rotating, nodeHeaders(signed(NOW)), body);
    fails('SIGNATURE_INVALID', rotating, nodeHeaders(signed(NOW, 'newer')), body);
  });

  it('enforces the tolerance (default 300 s) both ways', () => {
    passes(config, nodeHeaders(signed(NOW - 300)), body);
    passes(config, nodeHeaders(signed(NOW + 300)), body);
    fails('TIMESTAMP_OUT_OF_TOLERANCE', config, nodeHeaders(signed(NOW - 301)), body);
    fails('TIMESTAMP_OUT_OF_TOLERANCE', config, nodeHeaders(signed(NOW + 301)), body);
    passes({ ...config, toleranceSeconds: 60 }, nodeHeaders(signed(NOW - 60)), body);
    fails('TIMESTAMP_OUT_OF_TOLERANCE', { ...config, toleranceSeconds: 60 }, nodeHeaders(signed(NOW - 61)), body);
  });
});
