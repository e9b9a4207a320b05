import { describe, it } from 'vitest';
import { fails, nodeHeaders, passes } from './helpers';

const config = { type: 'token', token: 'tok-123456' };

describe('token', () => {
  it('accepts the token in Authorization, bare or as a Bearer token', () => {
    passes(config, nodeHeaders({ Authorization: 'tok-123456' }), '');
    passes(config, nodeHeaders({ Authorization: 'Bearer tok-123456' }), '');
    passes(config, nodeHeaders({ AUTHORIZATION: 'bearer  tok-123456' }), '');
  });

  it('refuses a wrong, partial or missing token', () => {
    fails('UNAUTHORIZED', config, nodeHeaders({ Authorization: 'Bearer tok-12345' }), '');
    fails('UNAUTHORIZED', config, nodeHeaders({ Authorization: 'Bearer tok-1234567' }), '');
    fails('UNAUTHORIZED', config, nodeHeaders({ Authorization: 'Basic tok-123456' }), '');
    fails('UNAUTHORIZED', config, nodeHeaders({ 'X-Token': 'tok-123456' }), '');
    fails('UNAUTHORIZED', config, {}, '');
  });

  it('reads a custom header such as GitLab X-Gitlab-Token, in any case, without the Bearer form', () => {
    const gitlab = { type: 'token', header: 'X-Gitlab-Token', token: 'tok-123456' };
    passes(gitlab, nodeHeaders({ 'X-Gitlab-Token': 'tok-123456' }), '');
    passes(gitlab, { 'X-GITLAB-TOKEN': 'tok-123456' }, '');
    passes({ ...gitlab, header: 'x-gitlab-token' }, nodeHeaders({ 'X-Gitlab-Token': 'tok-123456' }), '');
    passes(gitlab, { 'x-gitlab-token': ['tok-123456'] }, '');
    fails('UNAUTHORIZED', gitlab, nodeHeaders({ 'X-Gitlab-Token': 'Bearer tok-123456' }), '');
    fails('UNAUTHORIZED', gitlab, nodeHeaders({ Authorization: 'tok-123456' }), '');
  });

  it('accepts any token of a rotation', () => {
    const rotating = { ...config, token: ['old-token', 'tok-123456'] };
    passes(rotating, nodeHeaders({ Authorization: 'Bearer tok-123456' }), '');
    passes(rotating, nodeHeaders({ Authorization: 'old-token' }), '');
    fails('UNAUTHORIZED', rotating, nodeHeaders({ Authorization: 'Bearer other' }), '');
  });
});
