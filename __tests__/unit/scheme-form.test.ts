import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FIELDS, fieldsOf, SCHEMES } from '../../src/common/schemes';

// The trigger's form is plain data (a Formily schema): built here without the admin UI.
vi.mock('@nocobase/client', () => ({ i18n: { t: (text: string) => text } }));
vi.mock('@nocobase/plugin-workflow/client', () => ({ Trigger: class {} }));
vi.mock('../../src/client/components/Compound', () => ({ CorsInput: {}, RateLimitInput: {}, StaticResponseInput: {} }));
vi.mock('../../src/client/components/Deliveries', () => ({ WebhookDeliveries: {} }));
vi.mock('../../src/client/components/FirstErrorFocus', () => ({ FirstErrorFocus: {} }));
vi.mock('../../src/client/components/JsonEditor', () => ({ JsonEditor: {} }));
vi.mock('../../src/client/components/SecretInput', () => ({ SecretInput: {} }));
vi.mock('../../src/client/components/Sections', () => ({
  ModeNotice: {},
  ModeSection: {},
  Section: {},
  VerificationHelp: {},
}));
vi.mock('../../src/client/components/TagList', () => ({ TagList: {} }));
vi.mock('../../src/client/components/WebhookKey', () => ({ WebhookKey: {}, WebhookUrl: {} }));
vi.mock('../../src/client/sample', () => ({}));
vi.mock('react-i18next', () => ({ useTranslation: () => ({ t: (text: string) => text }) }));

// The client is type-checked by its own build (esbuild), not by this project's tsc.
const CLIENT_TRIGGER = '../../src/client/WebhookTrigger';

/** `visibleFor`'s expression: the types a field is shown for. */
const shownFor = (field: any): string[] => {
  const expression = field['x-reactions'][0].fulfill.state.visible as string;
  return JSON.parse(/^\{\{(.*)\.includes\(\$deps\[0\]\)\}\}$/.exec(expression)?.[1] ?? '[]');
};

describe('the verification part of the trigger form, made from the table of schemes', () => {
  let form: any;
  beforeAll(async () => {
    const { default: WebhookTrigger } = await import(/* @vite-ignore */ CLIENT_TRIGGER);
    form = new WebhookTrigger().fieldset.security.properties.verification.properties;
  });

  it('offers every scheme in the type select, with its label', () => {
    const options = form.type.enum.map((o: any) => o.value);
    expect(options).toEqual(SCHEMES.map((s) => s.type));
    for (const [i, s] of SCHEMES.entries()) expect(form.type.enum[i].label).toContain(JSON.stringify(s.label));
  });

  it('shows each scheme exactly its fields, secrets in a secret input', () => {
    for (const scheme of SCHEMES) {
      const shown = Object.keys(form).filter(
        (name) => form[name]['x-reactions'] && shownFor(form[name]).includes(scheme.type),
      );
      expect(shown.sort(), scheme.type).toEqual(fieldsOf(scheme).sort());
      for (const name of shown) {
        const secret = (FIELDS as any)[name].secret;
        expect(form[name]['x-component'] === 'SecretInput', `${scheme.type}.${name}`).toBe(secret);
      }
    }
  });
});
