import { MESSAGES } from '../../common/messages';
import { schemeOf } from '../../common/schemes';
import { signBasic } from './basic';
import { CannotSign } from './cannot-sign';
import { dingtalkTrial, signDingtalk } from './dingtalk';
import { signDingtalkRobot } from './dingtalk-robot';
import { feishuTrial, signFeishu } from './feishu';
import { signGithub } from './github';
import { signHmac } from './hmac';
import { metaTrial, signMeta } from './meta';
import { msgraphTrial, signMsgraph } from './msgraph';
import { signShopify } from './shopify';
import { signSlack, slackTrial } from './slack';
import { signStandard } from './standard';
import { signStripe } from './stripe';
import { signTemplate } from './template';
import { signToken } from './token';
import { signTwilio } from './twilio';
import { signTwitch, twitchTrial } from './twitch';
import type {
  HandshakeTrial,
  HandshakeTrialMaker,
  RequestSigner,
  SignContext,
  Signed,
  Signer,
  VerificationConfig,
} from './types';
import { signWecom, wecomTrial } from './wecom';
import { signZoom, zoomTrial } from './zoom';

export { CannotSign } from './cannot-sign';

/** A signer that only adds headers. */
const headersOnly =
  (signer: Signer): RequestSigner =>
  (config, raw, nowSeconds) => ({ headers: signer(config, raw, nowSeconds) });

/**
 * Each scheme's signer, next to its verifier in the scheme's file: a test request sent from the
 * admin UI is signed on the server with the stored secret, and then verified like any other.
 * (A test checks these are the rows of src/common/schemes.ts whose `canSign` is true.)
 */
export const SIGNERS: Record<string, RequestSigner> = {
  none: () => ({ headers: {} }),
  basic: headersOnly(signBasic),
  token: headersOnly(signToken),
  hmac: headersOnly(signHmac),
  github: headersOnly(signGithub),
  stripe: headersOnly(signStripe),
  slack: headersOnly(signSlack),
  shopify: headersOnly(signShopify),
  standard: headersOnly(signStandard),
  wecom: signWecom,
  dingtalk: signDingtalk,
  'dingtalk-robot': headersOnly(signDingtalkRobot),
  feishu: signFeishu,
  meta: headersOnly(signMeta),
  zoom: headersOnly(signZoom),
  twitch: signTwitch,
  msgraph: signMsgraph,
  twilio: signTwilio,
  template: signTemplate,
};

/**
 * The request each scheme's sender sends for its handshake, then signed by its signer: the admin
 * tries the handshake from the test dialog. (A test checks every row with a handshake that can be
 * signed has one.)
 */
export const HANDSHAKE_TRIALS: Record<string, HandshakeTrialMaker> = {
  slack: slackTrial,
  wecom: wecomTrial,
  dingtalk: dingtalkTrial,
  feishu: feishuTrial,
  meta: metaTrial,
  zoom: zoomTrial,
  twitch: twitchTrial,
  msgraph: msgraphTrial,
};

/** Whether a test request can be signed for this verification type (its row's `canSign`). */
export const canSign = (type: unknown): boolean =>
  schemeOf(type)?.canSign === true && Object.hasOwn(SIGNERS, type as string);

/** The handshake request of a scheme, or null when it has none to try. */
export function handshakeTrial(verification: VerificationConfig): HandshakeTrial | null {
  const type = verification.type;
  return schemeOf(type)?.handshake && Object.hasOwn(HANDSHAKE_TRIALS, type)
    ? HANDSHAKE_TRIALS[type](verification)
    : null;
}

const DEFAULT_CONTEXT: SignContext = { method: 'POST', headers: {}, querystring: '', url: '' };

/**
 * What makes `raw` pass the verification (secrets opened): the headers to add, and the query
 * parameters and body where the sender sets them. Throws `CannotSign` for a scheme whose stored
 * key cannot sign (a public key).
 */
export function signRequest(
  verification: VerificationConfig,
  raw: Buffer,
  nowSeconds: number,
  context: SignContext = DEFAULT_CONTEXT,
): Signed {
  if (!canSign(verification.type)) throw new CannotSign(MESSAGES.testCannotSign(String(verification.type)));
  return SIGNERS[verification.type](verification, raw, nowSeconds, context);
}
