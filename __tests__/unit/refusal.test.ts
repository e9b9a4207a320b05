import { describe, expect, it } from 'vitest';
import { errorAnswer, refusal, WebhookError } from '../../src/server/answer';

describe('shared refusals', () => {
  it('gives the same instance for the same code and message, with the answer of a new error', () => {
    const first = refusal('NOT_FOUND', 'No enabled webhook workflow has this key');
    const again = refusal('NOT_FOUND', 'No enabled webhook workflow has this key');
    expect(again).toBe(first);
    expect(first).toBeInstanceOf(WebhookError);
    expect(errorAnswer(first)).toEqual(
      errorAnswer(new WebhookError('NOT_FOUND', 'No enabled webhook workflow has this key')),
    );
    expect(errorAnswer(first).status).toBe(404);
  });

  it('keeps codes and messages apart', () => {
    const a = refusal('UNAUTHORIZED', 'Missing X-Token header');
    expect(refusal('UNAUTHORIZED', 'Missing Y-Token header')).not.toBe(a);
    expect(refusal('SIGNATURE_INVALID', 'Missing X-Token header')).not.toBe(a);
    expect(refusal('SIGNATURE_INVALID', 'Missing X-Token header').status).toBe(401);
  });

  it('stops keeping new ones past its bound, and still answers them', () => {
    for (let i = 0; i < 600; i++) refusal('UNAUTHORIZED', `Missing X-Header-${i} header`);
    const late = refusal('UNAUTHORIZED', 'Missing X-Header-599 header');
    expect(late.message).toBe('Missing X-Header-599 header');
    expect(refusal('UNAUTHORIZED', 'Missing X-Header-599 header')).not.toBe(late);
    // Those kept before the bound stay shared.
    expect(refusal('UNAUTHORIZED', 'Missing X-Header-0 header')).toBe(
      refusal('UNAUTHORIZED', 'Missing X-Header-0 header'),
    );
  });
});
