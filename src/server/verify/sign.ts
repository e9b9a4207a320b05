import { schemeOf } from '../../common/schemes';
import { signBasic } from './basic';
import { signGithub } from './github';
import { signHmac } from './hmac';
import { signShopify } from './shopify';
import { signSlack } from './slack';
import { signStandard } from './standard';
import { signStripe } from './stripe';
import { signToken } from './token';
import type { Signer, VerificationConfig } from './types';

/**
 * Each scheme's signer, next to its verifier in the scheme's file: a test request sent from the
 * admin UI is signed on the server with the stored secret, and then verified like any other.
 */
export const SIGNERS: Record<string, Signer> = {
  none: () => ({}),
  basic: signBasic,
  token: signToken,
  hmac: signHmac,
  github: signGithub,
  stripe: signStripe,
  slack: signSlack,
  shopify: signShopify,
  standard: signStandard,
};

/** Whether a test request can be signed for this verification type (its row's `canSign`). */
export const canSign = (type: unknown): boolean =>
  schemeOf(type)?.canSign === true && Object.hasOwn(SIGNERS, type as string);

/** The headers that make `raw` pass the verification (secrets opened); throws for a scheme without a signer. */
export function signRequest(verification: VerificationConfig, raw: Buffer, nowSeconds: number): Record<string, string> {
  if (!canSign(verification.type)) {
    throw new Error(`A test request cannot be signed for verification type "${verification.type}"`);
  }
  return SIGNERS[verification.type](verification, raw, nowSeconds);
}
