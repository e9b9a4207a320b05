import { describe, expect, it } from 'vitest';
import { safeEqual } from '../../src/server/verify/compare';
import { isSecretValue, matchesAnySecret, secretList } from '../../src/server/verify/secrets';

describe('safeEqual', () => {
  it('compares strings and buffers by content', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual(Buffer.from('abc'), 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('returns false on a length mismatch instead of throwing', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
    expect(safeEqual(Buffer.alloc(64), Buffer.alloc(32))).toBe(false);
  });
});

describe('secrets', () => {
  it('accepts a non-empty string or a non-empty list of non-empty strings', () => {
    expect(isSecretValue('s')).toBe(true);
    expect(isSecretValue(['a', 'b'])).toBe(true);
    for (const bad of ['', [], [''], ['a', ''], ['a', 1], 42, null, undefined, {}])
      expect(isSecretValue(bad)).toBe(false);
  });

  it('lists usable secrets, dropping malformed entries (fail closed)', () => {
    expect(secretList('s')).toEqual(['s']);
    expect(secretList(['a', '', 3, 'b'])).toEqual(['a', 'b']);
    expect(secretList(undefined)).toEqual([]);
  });

  it('tries every secret of a rotation', () => {
    expect(matchesAnySecret(['old', 'new'], ['new'])).toBe(true);
    expect(matchesAnySecret(['old', 'new'], ['x', 'old'])).toBe(true);
    expect(matchesAnySecret(['old', 'new'], ['newer'])).toBe(false);
    expect(matchesAnySecret('k', ['K!'], (s) => `${s.toUpperCase()}!`)).toBe(true);
    expect(matchesAnySecret(undefined, [''])).toBe(false);
  });
});
