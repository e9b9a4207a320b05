import { WebhookError } from '../answer';
import type { VerificationConfig } from './types';

export const DEFAULT_TOLERANCE_SECONDS = 300;

export function toleranceOf(config: VerificationConfig): number {
  const t = config.toleranceSeconds;
  return typeof t === 'number' && Number.isFinite(t) && t > 0 ? t : DEFAULT_TOLERANCE_SECONDS;
}

/** A signed timestamp (Unix seconds, as digits) parsed, or undefined when it is not one. */
export function parseTimestamp(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** Replay protection: the signed timestamp must lie within `tolerance` seconds of now, either way. */
export function checkTimestamp(timestamp: number, nowSeconds: number, tolerance: number): void {
  if (Math.abs(nowSeconds - timestamp) <= tolerance) return;
  const direction = timestamp < nowSeconds ? 'older' : 'further in the future';
  throw new WebhookError(
    'TIMESTAMP_OUT_OF_TOLERANCE',
    `Webhook timestamp is ${direction} than the allowed ${tolerance} seconds; check the sender's clock or replay`,
  );
}
