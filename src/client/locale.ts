import { useTranslation } from 'react-i18next';

/** i18n namespace: the server serves src/locale/<lang>.json (dist/locale in production) under the package name. */
export const NAMESPACE = 'nocobase-plugin-webhook-trigger';

/** A translatable string inside a Formily schema, compiled by the admin UI when it renders. */
export function tval(text: string): string {
  return `{{t(${JSON.stringify(text)}, { ns: ${JSON.stringify([NAMESPACE, 'workflow', 'client'])} })}}`;
}

/** `t` for React components, in this plugin's namespace (falling back to the workflow's and the client's). */
export function useT(): (text: string, options?: Record<string, unknown>) => string {
  const { t } = useTranslation([NAMESPACE, 'workflow', 'client'], { nsMode: 'fallback' });
  return (text, options) => t(text, { ns: [NAMESPACE, 'workflow', 'client'], ...options }) as string;
}

/** Marks a string as a UI message that is translated later (`t(message)`), so that tests find it. */
export const msg = (text: string): string => text;
