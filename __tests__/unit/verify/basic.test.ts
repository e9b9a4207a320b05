import { describe, expect, it } from 'vitest';
import { fails, nodeHeaders, passes } from './helpers';

const auth = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const config = { type: 'basic', username: 'hook', password: 's3cr3t-pass' };

describe('basic', () => {
  it('accepts the right username and password', () => {
    passes(config, nodeHeaders(auth('hook', 's3cr3t-pass')), '{}');
  });

  it('accepts a lower-case scheme, a password containing ":" and UTF-8 credentials', () => {
    passes(config, { authorization: auth('hook', 's3cr3t-pass').Authorization.replace('Basic', 'basic') }, '');
    passes({ ...config, password: 'a:b:c' }, nodeHeaders(auth('hook', 'a:b:c')), '');
    passes({ type: 'basic', username: 'jörg', password: 'pässwörd' }, nodeHeaders(auth('jörg', 'pässwörd')), '');
  });

  it('refuses a wrong password or username', () => {
    fails('UNAUTHORIZED', config, nodeHeaders(auth('hook', 'wrong')), '');
    fails('UNAUTHORIZED', config, nodeHeaders(auth('other', 's3cr3t-pass')), '');
    fails('UNAUTHORIZED', config, nodeHeaders(auth('hook', 's3cr3t-pas')), '');
  });

  it('refuses missing, malformed or non-Basic credentials, and asks for Basic auth', () => {
    const error = fails('UNAUTHORIZED', config, {}, '');
    expect(error.extra.headers?.['WWW-Authenticate']).toMatch(/^Basic /);
    fails('UNAUTHORIZED', config, { authorization: 'Bearer s3cr3t-pass' }, '');
    fails('UNAUTHORIZED', config, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }, '');
  });

  it('accepts any password of a rotation', () => {
    const rotating = { ...config, password: ['old-pass', 'new-pass'] };
    passes(rotating, nodeHeaders(auth('hook', 'new-pass')), '');
    passes(rotating, nodeHeaders(auth('hook', 'old-pass')), '');
    fails('UNAUTHORIZED', rotating, nodeHeaders(auth('hook', 'older-pass')), '');
  });

  it('fails closed without a configured username', () => {
    fails('UNAUTHORIZED', { type: 'basic', password: 'pass-word' }, nodeHeaders(auth('', 'pass-word')), '');
  });
});
