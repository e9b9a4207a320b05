import { valueList } from '../../common/schemes';
import { decodeSignature, digestsEqual, safeEqual } from './compare';

export { isSecretValue } from '../../common/schemes';

/** The usable secrets of a field (empty when the field is missing or malformed, so verification fails closed). */
export const secretList: (value: unknown) => string[] = valueList;

/** Rotation, for tokens and passwords: true when any secret of `value` equals any `provided` value. */
export function matchesAnySecret(value: unknown, provided: readonly string[]): boolean {
  return secretList(value).some((secret) => provided.some((candidate) => safeEqual(candidate, secret)));
}

/**
 * Rotation, for signatures: the secret of `value` whose digest (made by `sign`) equals any `provided`
 * signature (hex or base64 text), or undefined. Digests are compared as bytes, in constant time.
 */
export function findSigningSecret(
  value: unknown,
  provided: readonly string[],
  encoding: 'hex' | 'base64',
  sign: (secret: string) => Buffer,
): string | undefined {
  const decoded = provided.map((p) => decodeSignature(p, encoding)).filter((d): d is Buffer => d !== null);
  if (decoded.length === 0) return undefined;
  return secretList(value).find((secret) => {
    const want = sign(secret);
    return decoded.some((candidate) => digestsEqual(candidate, want));
  });
}

/** Rotation, for signatures: true when any `provided` signature matches a secret of `value` (see above). */
export function matchesAnySignature(
  value: unknown,
  provided: readonly string[],
  encoding: 'hex' | 'base64',
  sign: (secret: string) => Buffer,
): boolean {
  return findSigningSecret(value, provided, encoding, sign) !== undefined;
}

/** The secret a test request is signed with: the first of the list (the newest while rotating). */
export function firstSecret(value: unknown): string {
  const secret = secretList(value)[0];
  if (secret === undefined) throw new Error('The verification has no secret to sign with');
  return secret;
}
