/**
 * The verification schemes, as data: one row per `verification.type` (its fields, the headers it
 * reads, its handshake, whether a test request can be signed, its label and help), and one entry
 * per field (secret or not, its shape, its check, how the admin form shows it). The server derives
 * from it the validation of a configuration, which fields are sealed and masked, and what the
 * logs redact; the admin form derives the type select, the fields each type shows and their help.
 * The behaviour (verify, handshake, decrypt, acknowledge, sign) is the server's, keyed by type
 * (src/server/verify). Nothing here may need Node: the client bundle includes this folder.
 *
 * A new scheme: its verifier file in src/server/verify, one row below, and its label and help in
 * the six files of src/locale.
 */

import { DEFAULT_TOLERANCE_SECONDS, HEADER_NAME_PATTERN } from './constants';
import { VERIFICATION_MESSAGES as V } from './messages';
import type { Problem } from './problem';

/** Marks a UI text (a key of src/locale, translated where it is shown); the locale test collects them. */
const msg = (text: string): string => text;

export const ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export const ENCODINGS = ['hex', 'base64'] as const;
/** An `EncodingAESKey` (WeCom) or `aes_key` (DingTalk): 43 base64 characters. */
export const AES_KEY_PATTERN = /^[A-Za-z0-9+/]{43}$/;
/** An Ed25519 public key as Discord shows it: 64 hexadecimal characters. */
export const ED25519_HEX = /^[0-9a-fA-F]{64}$/;
const HTTP_URL = /^https?:\/\/[^\s]+$/i;

/** A secret field holds one secret or, while rotating, several: a non-empty string or a non-empty list of them. */
export function isSecretValue(value: unknown): value is string | string[] {
  if (typeof value === 'string') return value !== '';
  return Array.isArray(value) && value.length > 0 && value.every((s) => typeof s === 'string' && s !== '');
}

/** The usable values of a field that may be a list (empty when missing or malformed). */
export function valueList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((s): s is string => typeof s === 'string' && s !== '');
}

const isHeaderName = (v: unknown) => typeof v === 'string' && HEADER_NAME_PATTERN.test(v);
const listOf = (pattern: RegExp) => (v: unknown) => isSecretValue(v) && valueList(v).every((k) => pattern.test(k));
const STORED = msg('Stored on the server and never shown again.');

/** One field of a verification object. */
export interface FieldSpec {
  /** Sealed at rest, masked in answers, never logged; a list is allowed (rotation). */
  secret: boolean;
  /** A list of values is accepted (rotation): every secret, and the public keys. */
  list: boolean;
  /** A fixed shape a stand-in for a masked value must have too (the 43-character AES keys). */
  fixedShape?: 'aesKey';
  /** The server's check of a present value, and what it says otherwise (in the admin's language). */
  check: (value: unknown) => boolean;
  problem: (field: string) => Problem;
  /** The admin form: how the field is shown. */
  form: {
    component: 'Input' | 'SecretInput' | 'Select' | 'InputNumber';
    title: string;
    description?: string;
    placeholder?: string;
    /** What the form checks as the admin types, and what it says otherwise. */
    pattern?: RegExp;
    invalid?: string;
    options?: ReadonlyArray<{ value: string; label: string }>;
    default?: string;
  };
}

const secret = (title: string, description: string, fixedShape?: 'aesKey'): FieldSpec => ({
  secret: true,
  list: true,
  fixedShape,
  check: fixedShape ? listOf(AES_KEY_PATTERN) : isSecretValue,
  problem: fixedShape ? V.aesKey : V.secret,
  form: {
    component: 'SecretInput',
    title,
    description,
    ...(fixedShape ? { pattern: AES_KEY_PATTERN, invalid: msg('Must be 43 letters and digits') } : {}),
  },
});

const text = (
  check: (v: unknown) => boolean,
  problem: (field: string) => Problem,
  form: FieldSpec['form'],
): FieldSpec => ({
  secret: false,
  list: false,
  check,
  problem,
  form,
});

/**
 * Senders that sign like a `template` with fixed settings: choosing one in the form fills the
 * template's fields (no code per sender). `setup` says where the sender shows the secret.
 * When `timestampHeader` is the signature header itself, the timestamp is its `t=`/`ts=` entry
 * and the signatures are its entries that start with `prefix` (Paddle, Calendly).
 */
export interface TemplatePreset {
  id: string;
  label: string;
  settings: {
    header: string;
    prefix: string;
    algorithm: (typeof ALGORITHMS)[number];
    encoding: (typeof ENCODINGS)[number];
    message: string;
    timestampHeader?: string;
    idHeader?: string;
  };
  setup: string;
}

export const TEMPLATE_PRESETS: readonly TemplatePreset[] = [
  {
    id: 'linear',
    label: 'Linear',
    settings: { header: 'Linear-Signature', prefix: '', algorithm: 'sha256', encoding: 'hex', message: '{body}' },
    setup: msg('Linear: Settings → API → Webhooks → the webhook → Signing secret.'),
  },
  {
    id: 'paddle',
    label: 'Paddle Billing',
    settings: {
      header: 'Paddle-Signature',
      prefix: 'h1=',
      algorithm: 'sha256',
      encoding: 'hex',
      message: '{timestamp}:{body}',
      timestampHeader: 'Paddle-Signature',
    },
    setup: msg('Paddle: Developer tools → Notifications → the destination → Secret key.'),
  },
  {
    id: 'typeform',
    label: 'Typeform',
    settings: {
      header: 'Typeform-Signature',
      prefix: 'sha256=',
      algorithm: 'sha256',
      encoding: 'base64',
      message: '{body}',
    },
    setup: msg('Typeform: the form → Connect → Webhooks → Edit → Secret.'),
  },
  {
    id: 'calendly',
    label: 'Calendly',
    settings: {
      header: 'Calendly-Webhook-Signature',
      prefix: 'v1=',
      algorithm: 'sha256',
      encoding: 'hex',
      message: '{timestamp}.{body}',
      timestampHeader: 'Calendly-Webhook-Signature',
    },
    setup: msg('Calendly: the signing_key given when the webhook subscription is created through the API.'),
  },
  {
    id: 'square',
    label: 'Square',
    settings: {
      header: 'X-Square-HmacSha256-Signature',
      prefix: '',
      algorithm: 'sha256',
      encoding: 'base64',
      message: '{url}{body}',
    },
    setup: msg(
      'Square: Developer console → the application → Webhooks → the subscription → Signature key; the URL must be the notification URL exactly.',
    ),
  },
];

/** Every field of every scheme, in the order the admin form shows them. */
export const FIELDS = {
  preset: text(
    (v) => TEMPLATE_PRESETS.some((p) => p.id === v),
    (f) => V.oneOf(f, TEMPLATE_PRESETS.map((p) => p.id).join(', ')),
    {
      component: 'Select',
      title: msg('Sender preset'),
      description: msg('Optional. Fills the fields below as this sender signs; the secret stays yours to enter.'),
      options: TEMPLATE_PRESETS.map((p) => ({ value: p.id, label: p.label })),
    },
  ),
  username: text((v) => typeof v === 'string' && v !== '', V.required, {
    component: 'Input',
    title: msg('Username'),
  }),
  password: secret(msg('Password'), STORED),
  header: text(isHeaderName, V.headerName, {
    component: 'Input',
    title: msg('Header'),
    description: msg('The request header that carries the token or the signature.'),
    placeholder: 'X-Signature',
    pattern: HEADER_NAME_PATTERN,
  }),
  token: secret(
    msg('Token'),
    msg(
      'With the Authorization header the caller may send "Bearer <token>". Stored on the server and never shown again.',
    ),
  ),
  encodingAESKey: secret(
    msg('EncodingAESKey'),
    msg('43 characters, generated at the sender. Stored on the server and never shown again.'),
    'aesKey',
  ),
  receiveId: text((v) => typeof v === 'string', V.text, {
    component: 'Input',
    title: msg('Receiver ID (CorpID)'),
    description: msg('Optional. When set, messages encrypted for another CorpID (or suite ID) are refused.'),
    placeholder: 'ww0123456789abcdef',
  }),
  aesKey: secret(
    msg('aes_key'),
    msg('43 characters, generated at the sender. Stored on the server and never shown again.'),
    'aesKey',
  ),
  ownerKey: text((v) => typeof v === 'string' && v !== '', V.required, {
    component: 'Input',
    title: msg('Owner key'),
    description: msg(
      'The AppKey of the app (SuiteKey for a third-party app, CorpId for a custom one) the events are encrypted for.',
    ),
    placeholder: 'dingxxxxxxxx',
  }),
  verificationToken: secret(
    msg('Verification Token'),
    msg('Events & callbacks > Encryption strategy. Stored on the server and never shown again.'),
  ),
  encryptKey: secret(
    msg('Encrypt Key'),
    msg('Optional. When set, events are encrypted and signed (X-Lark-Signature) with it.'),
  ),
  verifyToken: secret(
    msg('Verify Token'),
    msg('Any text you choose and enter at Meta as well; it answers the subscription check.'),
  ),
  publicKey: {
    ...text(listOf(ED25519_HEX), V.publicKey, {
      component: 'Input',
      title: msg('Public key'),
      description: msg("The application's public key (General Information), 64 hexadecimal characters."),
      pattern: ED25519_HEX,
      invalid: msg('Must be 64 hexadecimal characters'),
    }),
    list: true,
  },
  clientState: secret(
    msg('clientState'),
    msg('The clientState you sent when creating the subscription; every notification must carry it.'),
  ),
  authToken: secret(
    msg('Auth Token'),
    msg('The Auth Token of the Twilio account (Console > Account info). Stored on the server and never shown again.'),
  ),
  url: text((v) => typeof v === 'string' && HTTP_URL.test(v), V.url, {
    component: 'Input',
    title: msg('URL at Twilio'),
    description: msg(
      'The webhook URL exactly as entered at Twilio (behind a proxy it differs from the one this server sees).',
    ),
    placeholder: 'https://example.com/api/webhooks/...',
    pattern: HTTP_URL,
    invalid: msg('Must be an http(s) URL'),
  }),
  secret: secret(
    msg('Secret'),
    msg(
      'The signing secret shared with the sender. Stored on the server and never shown again; add a second one to rotate without downtime.',
    ),
  ),
  algorithm: text(
    (v) => ALGORITHMS.includes(v as never),
    (f) => V.oneOf(f, ALGORITHMS.join(', ')),
    {
      component: 'Select',
      title: msg('Algorithm'),
      options: [
        { value: 'sha1', label: 'SHA-1' },
        { value: 'sha256', label: 'SHA-256' },
        { value: 'sha512', label: 'SHA-512' },
      ],
      default: 'sha256',
    },
  ),
  encoding: text(
    (v) => ENCODINGS.includes(v as never),
    (f) => V.oneOf(f, ENCODINGS.join(', ')),
    {
      component: 'Select',
      title: msg('Encoding'),
      options: ENCODINGS.map((e) => ({ value: e, label: e })),
      default: 'hex',
    },
  ),
  prefix: text((v) => typeof v === 'string', V.text, {
    component: 'Input',
    title: msg('Signature prefix'),
    description: msg('Text before the signature in the header, e.g. sha256=. Empty: none.'),
    placeholder: 'sha256=',
  }),
  message: text((v) => typeof v === 'string' && v.includes('{body}'), V.template, {
    component: 'Input',
    title: msg('Signed message'),
    description: msg(
      'What the sender signs: {timestamp}, {id}, {url} and {body} (the exact bytes), e.g. {timestamp}.{body}.',
    ),
    default: '{body}',
    pattern: /\{body\}/,
    invalid: msg('Must contain {body}'),
  }),
  timestampHeader: text(isHeaderName, V.headerName, {
    component: 'Input',
    title: msg('Timestamp header'),
    description: msg(
      'Optional. The header with the signed timestamp (seconds or milliseconds), checked against the tolerance.',
    ),
    placeholder: 'X-Timestamp',
    pattern: HEADER_NAME_PATTERN,
  }),
  idHeader: text(isHeaderName, V.headerName, {
    component: 'Input',
    title: msg('Id header'),
    description: msg('Optional. The header with the delivery id, for {id}.'),
    placeholder: 'X-Webhook-Id',
    pattern: HEADER_NAME_PATTERN,
  }),
  toleranceSeconds: text((v) => typeof v === 'number' && Number.isFinite(v) && v > 0, V.seconds, {
    component: 'InputNumber',
    title: msg('Timestamp tolerance'),
    description: msg('Signed requests older or newer than this are refused (replay protection).'),
  }),
} satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof FIELDS;
export const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

/** One verification scheme, as data (its behaviour is the server's, keyed by `type`). */
export interface SchemeRow {
  type: string;
  /** i18n keys: the option of the type select, and the help shown under it. */
  label: string;
  help: string;
  required: FieldName[];
  optional: FieldName[];
  /** A field's description where this scheme says something else than the field's own. */
  describe?: Partial<Record<FieldName, string>>;
  /** Requests carry a signed timestamp, checked within `toleranceSeconds` (this default when unset). */
  timestamped: false | { defaultTolerance: number };
  /** Headers that carry a signature (each proves one body only): redacted in the log, kept in executions. */
  signatureHeaders: string[];
  /** Headers that carry the credential itself: redacted in the log and in `$context.headers`. */
  credentialHeaders: string[];
  /** A field naming the header that carries the credential (in place of `credentialHeaders` when set). */
  credentialHeaderField?: FieldName;
  /** Query parameters that carry a credential: redacted in the logged path. */
  credentialQuery: string[];
  /**
   * The sender's handshake, answered by the plugin. `first`: unsigned, it proves itself and runs
   * before (in place of) the signature check; otherwise it is signed and runs after. `methods`:
   * allowed for it alone when the webhook's methods leave them out.
   */
  handshake: false | { first: boolean; methods: string[] };
  /**
   * A test request from the admin UI can be signed with what is stored; false when it cannot
   * (only a public key is stored), with the reason shown to the admin.
   */
  canSign: boolean;
  /** A valid value of this scheme's secrets, standing in for a masked one when a config is validated. */
  secretStandIn?: string;
}

const timestamped = (defaultTolerance = DEFAULT_TOLERANCE_SECONDS) => ({ defaultTolerance });
const row = (r: Omit<SchemeRow, 'signatureHeaders' | 'credentialHeaders' | 'credentialQuery'> & Partial<SchemeRow>) =>
  ({ signatureHeaders: [], credentialHeaders: [], credentialQuery: [], ...r }) as SchemeRow;

const SENDER_TOKEN = msg(
  'The Token shown at the sender, used to sign its requests. Stored on the server and never shown again; add a second one to rotate without downtime.',
);

/** Every verification scheme, in the order of the admin form's select. */
export const SCHEMES: readonly SchemeRow[] = [
  row({
    type: 'none',
    label: msg('None (anyone with the URL)'),
    help: msg('Anyone who knows the URL can call it. Prefer a signature, a token or an IP allow-list.'),
    required: [],
    optional: [],
    timestamped: false,
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'github',
    label: msg('GitHub signature'),
    help: msg(
      'GitHub: in the repository (or organization) Settings > Webhooks > Add webhook, paste the URL above as Payload URL, choose Content type application/json, and enter the same secret. Signatures come in X-Hub-Signature-256.',
    ),
    required: ['secret'],
    optional: [],
    timestamped: false,
    signatureHeaders: ['x-hub-signature-256', 'x-hub-signature'],
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'stripe',
    label: msg('Stripe signature'),
    help: msg(
      'Stripe: in Developers > Webhooks, add an endpoint with the URL above and paste its signing secret (whsec_...) here. Signatures come in Stripe-Signature.',
    ),
    required: ['secret'],
    optional: ['toleranceSeconds'],
    timestamped: timestamped(),
    signatureHeaders: ['stripe-signature'],
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'slack',
    label: msg('Slack signature'),
    help: msg(
      "Slack: paste the app's Signing Secret (Basic Information > App Credentials). Signatures come in X-Slack-Signature.",
    ),
    required: ['secret'],
    optional: ['toleranceSeconds'],
    timestamped: timestamped(),
    signatureHeaders: ['x-slack-signature'],
    handshake: { first: false, methods: [] },
    canSign: true,
  }),
  row({
    type: 'shopify',
    label: msg('Shopify signature'),
    help: msg(
      "Shopify: paste the app's client secret (or the webhook signing secret shown under Notifications). Signatures come in X-Shopify-Hmac-Sha256.",
    ),
    required: ['secret'],
    optional: [],
    timestamped: false,
    signatureHeaders: ['x-shopify-hmac-sha256'],
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'standard',
    label: msg('Standard Webhooks / Svix signature'),
    help: msg(
      'Standard Webhooks and Svix senders: paste the endpoint secret (whsec_...), or the public key (whpk_...) for v1a signatures. Signatures come in webhook-signature with webhook-id and webhook-timestamp; use webhook-id as the idempotency header.',
    ),
    required: ['secret'],
    optional: ['toleranceSeconds'],
    timestamped: timestamped(),
    signatureHeaders: ['webhook-signature', 'svix-signature'],
    secretStandIn: 'whsec_AAAA',
    handshake: false,
    // A whsec_ secret signs; a whpk_ public key cannot (the server tells which it stores).
    canSign: true,
  }),
  row({
    type: 'wecom',
    label: msg('WeCom (企业微信) callback'),
    help: msg(
      'WeCom: in the admin console, open the app > Receive messages > Set API reception, paste the URL above, and copy its Token and EncodingAESKey here (Receiver ID: your CorpID). The URL check (a GET) is answered here; events reach the workflow decrypted, as an object. WeCom sends no delivery id header: use MsgId in the workflow.',
    ),
    required: ['token', 'encodingAESKey'],
    optional: ['receiveId'],
    describe: { token: SENDER_TOKEN },
    timestamped: false,
    handshake: { first: true, methods: ['GET'] },
    canSign: true,
  }),
  row({
    type: 'dingtalk',
    label: msg('DingTalk (钉钉) event subscription'),
    help: msg(
      'DingTalk: in the developer console, open the app > Event subscription, choose HTTP push, paste the URL above as the request URL, and copy its aes_key and token here. The check_url event and every event are answered with the encrypted "success"; events reach the workflow decrypted. DingTalk sends no delivery id header: use EventId in the workflow.',
    ),
    required: ['token', 'aesKey', 'ownerKey'],
    optional: [],
    describe: { token: SENDER_TOKEN },
    timestamped: false,
    handshake: { first: false, methods: [] },
    canSign: true,
  }),
  row({
    type: 'dingtalk-robot',
    label: msg('DingTalk (钉钉) outgoing robot'),
    help: msg(
      'DingTalk outgoing robot: in the robot settings choose HTTP mode, paste the URL above as the message receiving address, and copy the AppSecret here. Signatures older than one hour are refused. There is no delivery id header: use msgId in the workflow.',
    ),
    required: ['secret'],
    optional: [],
    timestamped: timestamped(3600),
    signatureHeaders: ['sign'],
    // Legacy outgoing robots send their token in a `token` header.
    credentialHeaders: ['token'],
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'feishu',
    label: msg('Feishu / Lark events'),
    help: msg(
      'Feishu / Lark: in the developer console, open the app > Events & callbacks > Encryption strategy and copy the Verification Token (and the Encrypt Key, if set) here; then choose "Send events to developer server" and paste the URL above. The URL check is answered here; events reach the workflow decrypted. Deliveries carry no id header: use header.event_id in the workflow.',
    ),
    required: ['verificationToken'],
    optional: ['encryptKey'],
    timestamped: false,
    signatureHeaders: ['x-lark-signature'],
    handshake: { first: true, methods: [] },
    canSign: true,
  }),
  row({
    type: 'meta',
    label: msg('Meta (WhatsApp, Instagram, Messenger)'),
    help: msg(
      'Meta: in the App Dashboard, open Webhooks (or WhatsApp > Configuration), paste the URL above as the Callback URL and the Verify Token you chose here; the App Secret (App settings > Basic) signs each event in X-Hub-Signature-256. The subscription check (a GET) is answered here. No delivery id header.',
    ),
    required: ['secret', 'verifyToken'],
    optional: [],
    timestamped: false,
    signatureHeaders: ['x-hub-signature-256'],
    credentialQuery: ['hub.verify_token'],
    handshake: { first: true, methods: ['GET'] },
    canSign: true,
  }),
  row({
    type: 'zoom',
    label: msg('Zoom signature'),
    help: msg(
      'Zoom: in the Marketplace app > Features > Access, copy the Secret Token here; under Event subscriptions paste the URL above as the endpoint URL and press Validate: the URL check is answered here. Signatures come in x-zm-signature. No delivery id header.',
    ),
    required: ['secret'],
    optional: ['toleranceSeconds'],
    timestamped: timestamped(),
    signatureHeaders: ['x-zm-signature'],
    handshake: { first: false, methods: [] },
    canSign: true,
  }),
  row({
    type: 'twitch',
    label: msg('Twitch EventSub'),
    help: msg(
      'Twitch EventSub: create the subscription with transport method webhook, the URL above as callback and the same secret. The callback verification is answered here and revocations are logged (204). Use Twitch-Eventsub-Message-Id as the idempotency header.',
    ),
    required: ['secret'],
    optional: ['toleranceSeconds'],
    // Twitch asks receivers to refuse messages older than 10 minutes.
    timestamped: timestamped(600),
    signatureHeaders: ['twitch-eventsub-message-signature'],
    handshake: { first: false, methods: [] },
    canSign: true,
  }),
  row({
    type: 'discord',
    label: msg('Discord interactions'),
    help: msg(
      'Discord: in the Developer Portal, open the application > General Information, copy its public key here and paste the URL above as the Interactions Endpoint URL. PING is answered here. The workflow must answer within 3 seconds: use sync mode with a Webhook response node.',
    ),
    required: ['publicKey'],
    optional: [],
    timestamped: false,
    signatureHeaders: ['x-signature-ed25519'],
    handshake: { first: false, methods: [] },
    // Only Discord's public key is stored: the private key that signs stays at Discord.
    canSign: false,
  }),
  row({
    type: 'msgraph',
    label: msg('Microsoft Graph change notifications'),
    help: msg(
      'Microsoft Graph: create the subscription (POST /subscriptions) with the URL above as notificationUrl and the same clientState. The validation request (validationToken) is answered here. No delivery id header.',
    ),
    required: ['clientState'],
    optional: [],
    timestamped: false,
    handshake: { first: true, methods: [] },
    canSign: true,
  }),
  row({
    type: 'twilio',
    label: msg('Twilio signature'),
    help: msg(
      "Twilio: paste the URL above in the phone number's (or service's) webhook settings, and enter the same URL and the account's Auth Token here. Use I-Twilio-Idempotency-Token as the idempotency header.",
    ),
    required: ['authToken', 'url'],
    optional: [],
    timestamped: false,
    signatureHeaders: ['x-twilio-signature'],
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'hmac',
    label: msg('HMAC signature (custom)'),
    help: msg(
      'The caller signs the raw body with HMAC and sends the signature in a header, optionally after a prefix such as "sha256=".',
    ),
    required: ['secret', 'header'],
    optional: ['algorithm', 'encoding', 'prefix'],
    timestamped: false,
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'template',
    label: msg('HMAC signature (message template)'),
    help: msg(
      'Any HMAC sender: describe what it signs with a message template over {timestamp}, {id}, {url} and {body}, and where the signature, timestamp and id come. Use the id header as the idempotency header.',
    ),
    required: ['secret', 'header'],
    optional: [
      'preset',
      'algorithm',
      'encoding',
      'prefix',
      'message',
      'timestampHeader',
      'idHeader',
      'toleranceSeconds',
    ],
    timestamped: timestamped(),
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'token',
    label: msg('Token in a header (GitLab and others)'),
    help: msg(
      'The caller sends the token in a header: Authorization as "Bearer <token>", or any header with the token itself (GitLab: X-Gitlab-Token).',
    ),
    required: ['token'],
    optional: ['header'],
    timestamped: false,
    credentialHeaders: ['authorization'],
    credentialHeaderField: 'header',
    handshake: false,
    canSign: true,
  }),
  row({
    type: 'basic',
    label: msg('HTTP Basic authentication'),
    help: msg('The caller sends HTTP Basic credentials (Authorization: Basic ...).'),
    required: ['username', 'password'],
    optional: [],
    timestamped: false,
    credentialHeaders: ['authorization'],
    handshake: false,
    canSign: true,
  }),
];

export const VERIFICATION_TYPES: readonly string[] = SCHEMES.map((s) => s.type);

const BY_TYPE = new Map(SCHEMES.map((s) => [s.type, s]));

/** The row of a verification type, or undefined for an unknown one. */
export const schemeOf = (type: unknown): SchemeRow | undefined =>
  typeof type === 'string' ? BY_TYPE.get(type) : undefined;

/** The fields a scheme reads, required ones first. */
export const fieldsOf = (scheme: SchemeRow): FieldName[] => [...scheme.required, ...scheme.optional];

/** Fields that hold secrets: sealed at rest, masked in the UI, never logged, never sent back. */
export const SECRET_FIELDS: readonly FieldName[] = FIELD_NAMES.filter((f) => FIELDS[f].secret);

/** Secret fields whose value has a fixed shape (43 base64 characters): a stand-in for a mask must have it too. */
export const AES_KEY_FIELDS: readonly FieldName[] = FIELD_NAMES.filter(
  (f) => (FIELDS[f] as FieldSpec).fixedShape === 'aesKey',
);

/** Every header that carries a signature or a credential in some scheme (the delivery log redacts them). */
export const SCHEME_SENSITIVE_HEADERS: readonly string[] = [
  ...new Set(SCHEMES.flatMap((s) => [...s.signatureHeaders, ...s.credentialHeaders])),
];

/** The schemes that show a field in the admin form (those that read it). */
export const typesWithField = (field: FieldName): string[] =>
  SCHEMES.filter((s) => fieldsOf(s).includes(field)).map((s) => s.type);
