import { i18n } from '@nocobase/client';
import { Trigger } from '@nocobase/plugin-workflow/client';
import {
  FIELD_NAMES,
  FIELDS,
  type FieldName,
  type FieldSpec,
  SCHEMES,
  TEMPLATE_PRESETS,
  typesWithField,
} from '../common/schemes';
import { CorsInput, RateLimitInput, StaticResponseInput } from './components/Compound';
import { WebhookDeliveries } from './components/Deliveries';
import { FirstErrorFocus } from './components/FirstErrorFocus';
import { JsonEditor } from './components/JsonEditor';
import { SecretInput } from './components/SecretInput';
import { ModeNotice, ModeSection, Section, VerificationHelp } from './components/Sections';
import { TagList } from './components/TagList';
import { WebhookKey, WebhookUrl } from './components/WebhookKey';
import { NAMESPACE, tval, useT } from './locale';
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
  SECRET_MASK,
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

/** The admin form's field of a verification field, shown for the schemes that read it (src/common/schemes.ts). */
function verificationField(name: FieldName) {
  const spec: FieldSpec = FIELDS[name];
  const { form } = spec;
  const types = typesWithField(name);
  const requiredIn = SCHEMES.filter((s) => s.required.includes(name)).map((s) => s.type);
  const optional = requiredIn.length < types.length;
  // A description of its own where a scheme says something else (WeCom's token).
  const described = SCHEMES.filter((s) => s.describe?.[name] && types.includes(s.type));
  const reactions: unknown[] = [visibleFor(types)];
  if (optional && requiredIn.length) {
    reactions.push({
      dependencies: ['.type'],
      fulfill: { state: { required: `{{${JSON.stringify(requiredIn)}.includes($deps[0])}}` } },
    });
  }
  if (described.length && form.description) {
    const own = form.description;
    reactions.push((field: any) => {
      const type = field.query('.type').value();
      field.description = tr(SCHEMES.find((s) => s.type === type)?.describe?.[name] ?? own);
    });
  }
  if (name === 'preset') {
    // Choosing a sender fills the template's fields as that sender signs (src/common/schemes.ts).
    reactions.push((field: any) => {
      const preset = TEMPLATE_PRESETS.find((p) => p.id === field.value);
      field.description = tr(preset ? preset.setup : (form.description ?? ''));
      if (!preset || !field.modified || field.data?.applied === preset.id) return;
      field.data = { ...field.data, applied: preset.id };
      const { settings } = preset;
      for (const key of [
        'header',
        'prefix',
        'algorithm',
        'encoding',
        'message',
        'timestampHeader',
        'idHeader',
      ] as const) {
        field
          .query(`.${key}`)
          .take()
          ?.setValue(settings[key] ?? '');
      }
    });
  }
  if (name === 'toleranceSeconds') {
    // Unset, the scheme's own tolerance applies (Twitch: 10 minutes): the placeholder shows it.
    reactions.push((field: any) => {
      const row = SCHEMES.find((s) => s.type === field.query('.type').value());
      const props = field.componentProps ?? {};
      const seconds = row?.timestamped ? row.timestamped.defaultTolerance : DEFAULT_TOLERANCE_SECONDS;
      if (props.placeholder !== String(seconds)) field.componentProps = { ...props, placeholder: String(seconds) };
    });
  }
  const blank = (value: unknown) =>
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
  const patternOk = (value: unknown) =>
    !form.pattern ||
    (Array.isArray(value) ? value : [value]).every((v) => v === SECRET_MASK || form.pattern?.test(String(v)));
  const validate = (value: unknown): string | undefined => {
    if (spec.secret) {
      const list = Array.isArray(value) ? value : [value];
      if (blank(value)) return optional ? undefined : tr('Enter the secret');
      if (list.some((v) => typeof v !== 'string' || v === '')) return tr('Enter the secret');
    }
    if (blank(value)) return undefined;
    if (name === 'header') return validator(headerNameProblem)(value);
    return patternOk(value) ? undefined : tr(form.invalid ?? 'Not a header name');
  };
  return {
    type: form.component === 'InputNumber' ? 'number' : 'string',
    title: tval(form.title),
    ...(form.description ? { description: tval(form.description) } : {}),
    required: !optional,
    ...(form.default !== undefined ? { default: form.default } : {}),
    'x-decorator': 'FormItem',
    'x-component': form.component,
    'x-component-props':
      form.component === 'Select'
        ? { allowClear: false }
        : form.component === 'InputNumber'
          ? { min: 1, precision: 0, addonAfter: tval('seconds'), placeholder: String(DEFAULT_TOLERANCE_SECONDS) }
          : form.component === 'Input'
            ? { autoComplete: 'off', placeholder: form.placeholder }
            : {},
    ...(form.options ? { enum: form.options } : {}),
    'x-validator': validate,
    'x-reactions': reactions,
  };
}

/** The verification object of the form: the type select, its help, then every field of every scheme. */
const verificationProperties = () => ({
  type: {
    type: 'string',
    title: tval('Who may call'),
    'x-decorator': 'FormItem',
    'x-component': 'Select',
    'x-component-props': { allowClear: false, 'data-testid': 'verification-type' },
    enum: SCHEMES.map((s) => ({ value: s.type, label: tval(s.label) })),
    default: 'none',
  },
  help: { type: 'void', 'x-component': 'VerificationHelp' },
  ...Object.fromEntries(FIELD_NAMES.filter((f) => typesWithField(f).length).map((f) => [f, verificationField(f)])),
});

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
          properties: verificationProperties(),
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
