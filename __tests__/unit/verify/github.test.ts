import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { fails, NOW, nodeHeaders, passes } from './helpers';

const secret = 'gh-webhook-secret';
const payload = JSON.stringify({ action: 'opened', number: 7, title: 'Ünïcode ✓' });
const config = { type: 'github', secret };

describe('github', () => {
  it('matches the example of the GitHub documentation', () => {
    passes(
      { type: 'github', secret: "It's a Secret to Everybody" },
      { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' },
      'Hello, World!',
    );
  });

  it('accepts a body signed by @octokit/webhooks-methods, header in any case', async () => {
    const signature = await sign(secret, payload);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    passes(config, nodeHeaders({ 'X-Hub-Signature-256': signature }), payload);
    passes(config, { 'X-HUB-SIGNATURE-256': signature }, payload);
    passes(config, { 'x-hub-signature-256': [signature] }, payload);
  });

  it('refuses a tampered body, a wrong secret, a missing or unprefixed header', async () => {
    const signature = await sign(secret, payload);
    fails('SIGNATURE_INVALID', config, { 'x-hub-signature-256': signature }, `${payload} `, NOW, [signature]);
    fails('SIGNATURE_INVALID', config, { 'x-hub-signature-256': await sign('wrong', payload) }, payload, NOW, [
      signature,
    ]);
    fails('SIGNATURE_INVALID', config, {}, payload, NOW, [signature]);
    fails('SIGNATURE_INVALID', config, { 'x-hub-signature-256': signature.slice(7) }, payload);
    // The legacy SHA-1 header is not enough.
    fails('SIGNATURE_INVALID', config, { 'x-hub-signature': signature }, payload);
  });

  it('accepts any secret of a rotation', async () => {
    const rotating = { type: 'github', secret: ['previous-secret', secret] };
    passes(rotating, { 'x-hub-signature-256': await sign(secret, payload) }, payload);
    fails('SIGNATURE_INVALID', rotating, { 'x-hub-signature-256': await sign('third', payload) }, payload);
  });
});
