import { i18n } from '@nocobase/client';
import { Trigger } from '@nocobase/plugin-workflow/client';
import { CorsInput, RateLimitInput, StaticResponseInput } from './components/Compound';
import { WebhookDeliveries } from './components/Deliveries';
import { FirstErrorFocus } from './components/FirstErrorFocus';
import { JsonEditor } from './components/JsonEditor';
import { SecretInput } from './components/SecretInput';
import { ModeNotice, ModeSection, Section, VerificationHelp } from './components/Sections';
import { TagList } from './components/TagList';
import { WebhookKey, WebhookUrl } from './components/WebhookKey';
import { msg, NAMESPACE, tval, useT } from './locale';
import { mergeOptions, type Sample, sampleOptions } from './sample';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOLERANCE_SECONDS,
  fieldChecks,
  headerNameProblem,
  isIpEntry,
  KEY_PATTERN,
  METHODS,
  type Problem,
  renderProblem,
  schemaToVariables,
} from './utils';

const tr = (text: string, options?: Record<string, unknown>) => i18n.t(text, { ns: [NAMESPACE, 'client'], ...options });

/** A form validator from one of the checks the server runs too (src/common/checks.ts), translated. */
const validator =
  (check: (value: unknown) => Problem | null) =>
  (value: unknown): string | undefined => {
    const problem = check(value);
    return problem
      ? renderProblem(problem, (text, values) => tr(text, { ...values, interpolation: { escapeValue: false } }))
      : undefined;
  };

const visibleFor = (types: string[]) => ({
  dependencies: ['.type'],
  fulfill: { state: { visible: `{{${JSON.stringify(types)}.includes($deps[0])}}` } },
});

const secretField = (types: string[], title: string, description: string, required = true) => ({
  type: 'string',
  title: tval(title),
  description: tval(description),
  'x-decorator': 'FormItem',
  'x-component': 'SecretInput',
  'x-validator': (value: unknown) => {
    const list = Array.isArray(value) ? value : [value];
    if (!required && (value === undefined || value === null || value === '' || list.length === 0)) return undefined;
    if (!list.length || list.some((v) => typeof v !== 'string' || v === '')) return tr('Enter the secret');
    return undefined;
  },
  required,
  'x-reactions': [visibleFor(types)],
});

/** A plain text field of the verification, shown for `types`. */
const textField = (
  types: string[],
  title: string,
  description: string,
  options: { required?: boolean; placeholder?: string; pattern?: RegExp; invalid?: string; default?: string } = {},
) => ({
  type: 'string',
  title: tval(title),
  description: tval(description),
  required: !!options.required,
  default: options.default,
  'x-decorator': 'FormItem',
  'x-component': 'Input',
  'x-component-props': { autoComplete: 'off', placeholder: options.placeholder },
  'x-validator': (value: unknown) =>
    !value || !options.pattern || (typeof value === 'string' && options.pattern.test(value))
      ? undefined
      : tr(options.invalid ?? 'Not a header name'),
  'x-reactions': [visibleFor(types)],
});

/** Schemes whose `secret` field signs or proves requests. */
const SIGNED = [
  'hmac',
  'github',
  'stripe',
  'slack',
  'shopify',
  'standard',
  'dingtalk-robot',
  'meta',
  'zoom',
  'twitch',
  'template',
];
const AES_KEY = /^[A-Za-z0-9+/]{43}$/;

/** Path parameter names of a sub-path pattern such as `/orders/:id`. */
function pathParams(path: unknown): string[] {
  if (typeof path !== 'string') return [];
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
}

/** The `webhook` trigger in the workflow editor: configuration form, variables and deliveries. */
export default class WebhookTrigger extends Trigger {
  title = tval('Webhook');
  description = tval(
    'Triggered when an external system (GitHub, Stripe, Slack, a form service, a device) calls the URL of this workflow. In sync mode the caller gets the answer the workflow builds.',
  );

  fieldset = {
    focusErrors: { type: 'void', 'x-component': 'FirstErrorFocus' },
    mode: { type: 'void', 'x-component': 'ModeNotice' },
    endpoint: {
      type: 'void',
      'x-component': 'Section',
      'x-component-props': { title: tval('Endpoint') },
      properties: {
        url: {
          type: 'void',
          title: tval('Webhook URL'),
          description: tval('Give this URL to the sender. It stays the same across versions of this workflow.'),
          'x-decorator': 'FormItem',
          'x-component': 'WebhookUrl',
        },
        key: {
          type: 'string',
          title: tval('Key'),
          description: tval(
            'The last part of the URL: 1 to 128 letters, digits, "_" or "-". Unique among enabled webhooks. Regenerate it if the URL leaked.',
          ),
          required: true,
          'x-decorator': 'FormItem',
          'x-component': 'WebhookKey',
          // Required here: the server generates a key only when a workflow is created without one.
          'x-validator': validator((value) => fieldChecks.key(value ?? '')),
        },
        path: {
          type: 'string',
          title: tval('Sub-path'),
          description: tval(
            'Optional pattern after the key, e.g. /orders/:id. Named parts such as :id become the variables $context.params. Empty: only the URL itself.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'Input',
          'x-component-props': { placeholder: '/orders/:id', style: { fontFamily: 'monospace' } },
          'x-validator': (value: unknown) =>
            !value || (typeof value === 'string' && /^\/[^\s?#]*$/.test(value))
              ? undefined
              : tr('Start with "/" and leave out spaces, "?" and "#"'),
        },
        methods: {
          type: 'array',
          title: tval('Methods'),
          description: tval('Other methods get 405 with an Allow header.'),
          'x-decorator': 'FormItem',
          'x-component': 'Checkbox.Group',
          enum: METHODS.map((m) => ({ label: m, value: m })),
          default: ['POST'],
          required: true,
          'x-validator': validator(fieldChecks.methods),
        },
        deliveries: {
          type: 'void',
          title: tval('Deliveries'),
          description: tval(
            'Every request, accepted or rejected, is logged: time, method, IP, status, error and execution.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'WebhookDeliveries',
        },
      },
    },
    security: {
      type: 'void',
      'x-component': 'Section',
      'x-component-props': { title: tval('Verification') },
      properties: {
        verification: {
          type: 'object',
          properties: {
            type: {
              type: 'string',
              title: tval('Who may call'),
              'x-decorator': 'FormItem',
              'x-component': 'Select',
              'x-component-props': { allowClear: false, 'data-testid': 'verification-type' },
              enum: [
                { value: 'none', label: tval('None (anyone with the URL)') },
                { value: 'github', label: tval('GitHub signature') },
                { value: 'stripe', label: tval('Stripe signature') },
                { value: 'slack', label: tval('Slack signature') },
                { value: 'shopify', label: tval('Shopify signature') },
                { value: 'standard', label: tval('Standard Webhooks / Svix signature') },
                { value: 'wecom', label: tval('WeCom (企业微信) callback') },
                { value: 'dingtalk', label: tval('DingTalk (钉钉) event subscription') },
                { value: 'dingtalk-robot', label: tval('DingTalk (钉钉) outgoing robot') },
                { value: 'feishu', label: tval('Feishu / Lark events') },
                { value: 'meta', label: tval('Meta (WhatsApp, Instagram, Messenger)') },
                { value: 'zoom', label: tval('Zoom signature') },
                { value: 'twitch', label: tval('Twitch EventSub') },
                { value: 'discord', label: tval('Discord interactions') },
                { value: 'msgraph', label: tval('Microsoft Graph change notifications') },
                { value: 'twilio', label: tval('Twilio signature') },
                { value: 'hmac', label: tval('HMAC signature (custom)') },
                { value: 'template', label: tval('HMAC signature (message template)') },
                { value: 'token', label: tval('Token in a header (GitLab and others)') },
                { value: 'basic', label: tval('HTTP Basic authentication') },
              ],
              default: 'none',
            },
            help: { type: 'void', 'x-component': 'VerificationHelp' },
            username: {
              type: 'string',
              title: tval('Username'),
              required: true,
              'x-decorator': 'FormItem',
              'x-component': 'Input',
              'x-component-props': { autoComplete: 'off' },
              'x-reactions': [visibleFor(['basic'])],
            },
            password: secretField(['basic'], msg('Password'), msg('Stored on the server and never shown again.')),
            header: {
              type: 'string',
              title: tval('Header'),
              description: tval('The request header that carries the token or the signature.'),
              'x-decorator': 'FormItem',
              'x-component': 'Input',
              'x-component-props': { placeholder: 'X-Signature' },
              'x-validator': validator(headerNameProblem),
              'x-reactions': [
                visibleFor(['token', 'hmac', 'template']),
                {
                  dependencies: ['.type'],
                  fulfill: { state: { required: '{{$deps[0] === "hmac" || $deps[0] === "template"}}' } },
                },
              ],
            },
            token: {
              ...secretField(
                ['token', 'wecom', 'dingtalk'],
                msg('Token'),
                msg(
                  'With the Authorization header the caller may send "Bearer <token>". Stored on the server and never shown again.',
                ),
              ),
              'x-reactions': [
                visibleFor(['token', 'wecom', 'dingtalk']),
                (field: any) => {
                  const type = field.query('.type').value();
                  field.description =
                    type === 'wecom' || type === 'dingtalk'
                      ? tr(
                          'The Token shown at the sender, used to sign its requests. Stored on the server and never shown again; add a second one to rotate without downtime.',
                        )
                      : tr(
                          'With the Authorization header the caller may send "Bearer <token>". Stored on the server and never shown again.',
                        );
                },
              ],
            },
            encodingAESKey: {
              ...secretField(
                ['wecom'],
                msg('EncodingAESKey'),
                msg('43 characters, generated at the sender. Stored on the server and never shown again.'),
              ),
              'x-validator': (value: unknown) =>
                (Array.isArray(value) ? value : [value]).every((v) => v === '********' || AES_KEY.test(String(v)))
                  ? undefined
                  : tr('Must be 43 letters and digits'),
            },
            receiveId: textField(
              ['wecom'],
              msg('Receiver ID (CorpID)'),
              msg('Optional. When set, messages encrypted for another CorpID (or suite ID) are refused.'),
              { placeholder: 'ww0123456789abcdef' },
            ),
            aesKey: {
              ...secretField(
                ['dingtalk'],
                msg('aes_key'),
                msg('43 characters, generated at the sender. Stored on the server and never shown again.'),
              ),
              'x-validator': (value: unknown) =>
                (Array.isArray(value) ? value : [value]).every((v) => v === '********' || AES_KEY.test(String(v)))
                  ? undefined
                  : tr('Must be 43 letters and digits'),
            },
            ownerKey: textField(
              ['dingtalk'],
              msg('Owner key'),
              msg(
                'The AppKey of the app (SuiteKey for a third-party app, CorpId for a custom one) the events are encrypted for.',
              ),
              { required: true, placeholder: 'dingxxxxxxxx' },
            ),
            verificationToken: secretField(
              ['feishu'],
              msg('Verification Token'),
              msg('Events & callbacks > Encryption strategy. Stored on the server and never shown again.'),
            ),
            encryptKey: secretField(
              ['feishu'],
              msg('Encrypt Key'),
              msg('Optional. When set, events are encrypted and signed (X-Lark-Signature) with it.'),
              false,
            ),
            verifyToken: secretField(
              ['meta'],
              msg('Verify Token'),
              msg('Any text you choose and enter at Meta as well; it answers the subscription check.'),
            ),
            publicKey: textField(
              ['discord'],
              msg('Public key'),
              msg("The application's public key (General Information), 64 hexadecimal characters."),
              { required: true, pattern: /^[0-9a-fA-F]{64}$/, invalid: msg('Must be 64 hexadecimal characters') },
            ),
            clientState: secretField(
              ['msgraph'],
              msg('clientState'),
              msg('The clientState you sent when creating the subscription; every notification must carry it.'),
            ),
            authToken: secretField(
              ['twilio'],
              msg('Auth Token'),
              msg(
                'The Auth Token of the Twilio account (Console > Account info). Stored on the server and never shown again.',
              ),
            ),
            url: textField(
              ['twilio'],
              msg('URL at Twilio'),
              msg(
                'The webhook URL exactly as entered at Twilio (behind a proxy it differs from the one this server sees).',
              ),
              {
                required: true,
                placeholder: 'https://example.com/api/webhooks/...',
                pattern: /^https?:\/\/\S+$/i,
                invalid: msg('Must be an http(s) URL'),
              },
            ),
            secret: secretField(
              SIGNED,
              msg('Secret'),
              msg(
                'The signing secret shared with the sender. Stored on the server and never shown again; add a second one to rotate without downtime.',
              ),
            ),
            algorithm: {
              type: 'string',
              title: tval('Algorithm'),
              'x-decorator': 'FormItem',
              'x-component': 'Select',
              'x-component-props': { allowClear: false },
              enum: [
                { value: 'sha1', label: 'SHA-1' },
                { value: 'sha256', label: 'SHA-256' },
                { value: 'sha512', label: 'SHA-512' },
              ],
              default: 'sha256',
              'x-reactions': [visibleFor(['hmac', 'template'])],
            },
            encoding: {
              type: 'string',
              title: tval('Encoding'),
              'x-decorator': 'FormItem',
              'x-component': 'Select',
              'x-component-props': { allowClear: false },
              enum: [
                { value: 'hex', label: 'hex' },
                { value: 'base64', label: 'base64' },
              ],
              default: 'hex',
              'x-reactions': [visibleFor(['hmac', 'template'])],
            },
            prefix: {
              type: 'string',
              title: tval('Signature prefix'),
              description: tval('Text before the signature in the header, e.g. sha256=. Empty: none.'),
              'x-decorator': 'FormItem',
              'x-component': 'Input',
              'x-component-props': { placeholder: 'sha256=' },
              'x-reactions': [visibleFor(['hmac', 'template'])],
            },
            message: textField(
              ['template'],
              msg('Signed message'),
              msg(
                'What the sender signs: {timestamp}, {id}, {url} and {body} (the exact bytes), e.g. {timestamp}.{body}.',
              ),
              { required: true, default: '{body}', pattern: /\{body\}/, invalid: msg('Must contain {body}') },
            ),
            timestampHeader: textField(
              ['template'],
              msg('Timestamp header'),
              msg(
                'Optional. The header with the signed timestamp (seconds or milliseconds), checked against the tolerance.',
              ),
              { placeholder: 'X-Timestamp', pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/ },
            ),
            idHeader: textField(
              ['template'],
              msg('Id header'),
              msg('Optional. The header with the delivery id, for {id}.'),
              { placeholder: 'X-Webhook-Id', pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/ },
            ),
            toleranceSeconds: {
              type: 'number',
              title: tval('Timestamp tolerance'),
              description: tval('Signed requests older or newer than this are refused (replay protection).'),
              'x-decorator': 'FormItem',
              'x-component': 'InputNumber',
              'x-component-props': { min: 1, precision: 0, addonAfter: tval('seconds') },
              default: DEFAULT_TOLERANCE_SECONDS,
              'x-reactions': [visibleFor(['stripe', 'slack', 'standard', 'zoom', 'template'])],
            },
          },
        },
        ipAllowlist: {
          type: 'array',
          title: tval('IP allow-list'),
          description: tval(
            'IPv4 and IPv6 addresses and CIDR ranges, e.g. 192.30.252.0/22 or 2001:db8::/32. Empty: any IP. Others get 403.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'TagList',
          'x-component-props': {
            isValid: isIpEntry,
            placeholder: '192.30.252.0/22, 2001:db8::/32',
            testid: 'ip-allowlist',
          },
          'x-validator': validator(fieldChecks.ipAllowlist),
        },
        trustedProxies: {
          type: 'array',
          title: tval('Trusted proxies'),
          description: tval(
            'Only these hops (your load balancer, reverse proxy) may set the client IP through X-Forwarded-For. Empty: the socket address is the client IP.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'TagList',
          'x-component-props': { isValid: isIpEntry, placeholder: '10.0.0.0/8, 127.0.0.1', testid: 'trusted-proxies' },
          'x-validator': validator(fieldChecks.trustedProxies),
        },
      },
    },
    request: {
      type: 'void',
      'x-component': 'Section',
      'x-component-props': { title: tval('Request') },
      properties: {
        bodySchema: {
          title: tval('Body JSON Schema'),
          description: tval(
            'Optional JSON Schema (draft 2020-12 or 07). A body that fails it gets 422 with the list of errors. Its properties become variables.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'JsonEditor',
        },
        idempotencyHeader: {
          type: 'string',
          title: tval('Idempotency header'),
          description: tval(
            'A header whose value identifies a delivery, e.g. X-GitHub-Delivery. A repeated value starts no second run; the repeat gets the first answer again.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'Input',
          'x-component-props': { placeholder: 'X-GitHub-Delivery' },
          'x-validator': validator(fieldChecks.idempotencyHeader),
        },
        maxBodyBytes: {
          type: 'number',
          title: tval('Maximum body size'),
          description: tval('Larger bodies get 413. Default 1 MiB (1048576 bytes).'),
          'x-decorator': 'FormItem',
          'x-component': 'InputNumber',
          // No `min`: the input would turn 0 into 1 without a word; the check says what is wrong.
          'x-component-props': { precision: 0, step: 1024, addonAfter: tval('bytes') },
          default: DEFAULT_MAX_BODY_BYTES,
          'x-validator': validator(fieldChecks.maxBodyBytes),
        },
        rateLimit: {
          title: tval('Rate limit'),
          description: tval('Over it: 429 with Retry-After. Empty: no limit.'),
          'x-decorator': 'FormItem',
          'x-component': 'RateLimitInput',
          'x-validator': validator(fieldChecks.rateLimit),
        },
        cors: {
          title: tval('CORS origins'),
          description: tval(
            'Browser pages on these origins may call the webhook (preflight included). Empty: no CORS.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'CorsInput',
          'x-validator': validator(fieldChecks.cors),
        },
        filter: {
          title: tval('Filter'),
          description: tval(
            'Optional condition over $context in NocoBase filter JSON, e.g. {"$and": [{"headers.x-github-event": {"$eq": "push"}}]}. A request that passes every check but not this starts nothing: it gets 200 {"deliveryId", "filtered": true} and is logged as FILTERED.',
          ),
          'x-decorator': 'FormItem',
          'x-component': 'JsonEditor',
          'x-component-props': { schema: false, rows: 4 },
          'x-validator': validator(fieldChecks.filter),
        },
      },
    },
    answer: {
      type: 'void',
      'x-component': 'Section',
      'x-component-props': { title: tval('Response') },
      properties: {
        syncOnly: {
          type: 'void',
          'x-component': 'ModeSection',
          'x-component-props': { mode: 'sync' },
          properties: {
            timeoutMs: {
              type: 'number',
              title: tval('Timeout'),
              description: tval(
                'A run longer than this answers 504; the execution goes on and stays visible. Add a Webhook response node to answer with your own status, headers and body.',
              ),
              'x-decorator': 'FormItem',
              'x-component': 'InputNumber',
              'x-component-props': { precision: 0, step: 1000, addonAfter: tval('ms') },
              default: DEFAULT_TIMEOUT_MS,
              'x-validator': validator(fieldChecks.timeoutMs),
            },
            onTimeout: {
              type: 'string',
              title: tval('When the timeout is reached'),
              description: tval(
                'Accept: the caller gets 202 {"deliveryId", "executionId", "statusUrl"} and the run goes on. GET statusUrl answers {"status", "response"} (queued, running, succeeded or failed, and the answer the run built). The token in the URL is the only key to it.',
              ),
              'x-decorator': 'FormItem',
              'x-component': 'Select',
              'x-component-props': { allowClear: false, 'data-testid': 'on-timeout' },
              enum: [
                { value: 'error', label: tval('Answer 504 (error)') },
                { value: 'accept', label: tval('Answer 202 with a status URL, and go on') },
              ],
              default: 'error',
              'x-validator': validator(fieldChecks.onTimeout),
            },
          },
        },
        asyncOnly: {
          type: 'void',
          'x-component': 'ModeSection',
          'x-component-props': { mode: 'async' },
          properties: {
            response: {
              title: tval('Answer'),
              description: tval('Sent once the delivery is stored. Default: 202 and {"deliveryId": "..."}.'),
              'x-decorator': 'FormItem',
              'x-component': 'StaticResponseInput',
              'x-validator': validator(fieldChecks.response),
            },
          },
        },
      },
    },
  };

  components = {
    FirstErrorFocus,
    WebhookKey,
    WebhookUrl,
    WebhookDeliveries,
    SecretInput,
    TagList,
    JsonEditor,
    RateLimitInput,
    CorsInput,
    StaticResponseInput,
    Section,
    ModeSection,
    ModeNotice,
    VerificationHelp,
  };

  isActionTriggerable_deprecated = false;

  createDefaultConfig() {
    return { methods: ['POST'], verification: { type: 'none' } };
  }

  validate(config: Record<string, unknown>) {
    return typeof config?.key === 'string' && KEY_PATTERN.test(config.key);
  }

  useVariables(config: Record<string, any>, options?: { types?: unknown[]; fieldNames?: Record<string, string> }) {
    const t = useT();
    const names = { label: 'label', value: 'value', children: 'children', ...(options?.fieldNames ?? {}) };
    const types = options?.types;
    // Only plain values (text, numbers) are offered; pickers that want records or files get none.
    if (
      Array.isArray(types) &&
      types.length &&
      !types.some((x) => ['string', 'number', 'boolean', 'date'].includes(x as string))
    ) {
      return [];
    }
    type Opt = { key: string; label: string; children?: Opt[] | null };
    const node = (o: Opt): Record<string, unknown> => ({
      key: o.key,
      [names.value]: o.key,
      [names.label]: o.label,
      [names.children]: o.children?.length ? o.children.map(node) : null,
    });
    const headerNames = ['content-type', 'user-agent'];
    if (typeof config?.idempotencyHeader === 'string' && config.idempotencyHeader) {
      headerNames.push(config.idempotencyHeader.toLowerCase());
    }
    const schemaVars = schemaToVariables(config?.bodySchema);
    // A captured request (config.sample) offers its real fields, with example values.
    const sample = (config?.sample ?? null) as Sample | null;
    const sampleData = sampleOptions(sample?.data);
    const schemaOpts = schemaVars
      ? schemaVars.map((v) => ({ key: v.value, label: v.label, children: v.children as Opt[] }))
      : null;
    const opts: Opt[] = [
      {
        key: 'data',
        label: t('Body'),
        children: schemaOpts || sampleData ? mergeOptions(schemaOpts, sampleData) : null,
      },
      {
        key: 'headers',
        label: t('Headers'),
        children: mergeOptions(
          sampleOptions(sample?.headers),
          headerNames.map((h) => ({ key: h, label: h })),
        ),
      },
      { key: 'query', label: t('Query parameters'), children: sampleOptions(sample?.query) },
      {
        key: 'params',
        label: t('Path parameters'),
        children: mergeOptions(
          pathParams(config?.path).map((p) => ({ key: p, label: p })),
          sampleOptions(sample?.params),
        ),
      },
      { key: 'method', label: t('Method') },
      { key: 'ip', label: t('Client IP') },
      { key: 'files', label: t('Uploaded files') },
    ];
    return opts.map(node);
  }
}
