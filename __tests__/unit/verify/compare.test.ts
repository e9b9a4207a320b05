import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeSignature, digestsEqual, safeEqual } from '../../../src/server/verify/compare';
import { isSecretValue, matchesAnySecret, matchesAnySignature, secretList } from '../../../src/server/verify/secrets';

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
    expect(matchesAnySecret(undefined, [''])).toBe(false);
  });

  it('tries every secret of a rotation against every signature, as bytes', () => {
    const sign = (secret: string) => createHmac('sha256', secret).update('body').digest();
    const hex = sign('new').toString('hex');
    expect(matchesAnySignature(['old', 'new'], [hex], 'hex', sign)).toBe(true);
    expect(matchesAnySignature(['old', 'new'], [hex.toUpperCase()], 'hex', sign)).toBe(true);
    expect(matchesAnySignature(['old', 'new'], ['00', sign('old').toString('base64')], 'base64', sign)).toBe(true);
    expect(matchesAnySignature(['old'], [hex], 'hex', sign)).toBe(false);
    // Malformed or cut signatures never match, even when their bytes would decode to a prefix.
    expect(matchesAnySignature(['new'], [`${hex}zz`], 'hex', sign)).toBe(false);
    expect(matchesAnySignature(['new'], [hex.slice(0, 62)], 'hex', sign)).toBe(false);
    expect(matchesAnySignature(['new'], [''], 'hex', sign)).toBe(false);
    expect(matchesAnySignature(undefined, [hex], 'hex', sign)).toBe(false);
  });
});

describe('signature bytes', () => {
  it('decodes only well-formed hex and base64', () => {
    expect(decodeSignature('0aFF', 'hex')).toEqual(Buffer.from([0x0a, 0xff]));
    for (const bad of ['', 'abc', '0g', ' 0a']) expect(decodeSignature(bad, 'hex')).toBeNull();
    expect(decodeSignature('AQI=', 'base64')).toEqual(Buffer.from([1, 2]));
    for (const bad of ['', 'AQI', 'A?I=', 'AQI=\n']) expect(decodeSignature(bad, 'base64')).toBeNull();
  });

  it('compares digests of equal length only', () => {
    expect(digestsEqual(Buffer.from([1, 2]), Buffer.from([1, 2]))).toBe(true);
    expect(digestsEqual(Buffer.from([1, 2]), Buffer.from([1, 3]))).toBe(false);
    expect(digestsEqual(Buffer.from([1]), Buffer.from([1, 2]))).toBe(false);
  });
});
