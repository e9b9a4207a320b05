import { safeEqual } from './compare';

/** A secret field holds one secret or, while rotating, several: a non-empty string or a non-empty list of them. */
export function isSecretValue(value: unknown): value is string | string[] {
  if (typeof value === 'string') return value !== '';
  return Array.isArray(value) && value.length > 0 && value.every((s) => typeof s === 'string' && s !== '');
}

/** The usable secrets of a field (empty when the field is missing or malformed, so verification fails closed). */
export function secretList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((s): s is string => typeof s === 'string' && s !== '');
}

/**
 * Rotation: true when any secret of `value`, turned into its expected form by `expected`
 * (the secret itself, or a signature made with it), equals any of the `provided` values.
 */
export function matchesAnySecret(
  value: unknown,
  provided: readonly string[],
  expected: (secret: string) => string = (secret) => secret,
): boolean {
  return secretList(value).some((secret) => {
    const want = expected(secret);
    return provided.some((candidate) => safeEqual(candidate, want));
  });
}
