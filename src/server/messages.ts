import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Next } from 'koa';
import { formatProblem, type Problem } from '../common/checks';
import { configProblems, type RawWebhookConfig } from './config';

/** The i18n namespace of this plugin (its package name), as the admin UI uses it. */
export const NAMESPACE = 'nocobase-plugin-webhook-trigger';

/** Where the locale files are: src/locale (sources, tests) or dist/locale (a built plugin). */
function localeDir(): string | null {
  for (const dir of [path.resolve(__dirname, '..', 'locale'), path.resolve(__dirname, '..', '..', 'src', 'locale')]) {
    try {
      if (readdirSync(dir).some((f) => f.endsWith('.json'))) return dir;
    } catch {
      // not here
    }
  }
  return null;
}

/** Adds this plugin's locale files to the app's i18n (an app that loaded the plugin by class has none). */
export function loadLocales(i18n: { addResourceBundle: (...args: any[]) => unknown }): void {
  const dir = localeDir();
  if (!dir) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const lang = file.replace(/\.json$/, '');
    i18n.addResourceBundle(lang, NAMESPACE, JSON.parse(readFileSync(path.join(dir, file), 'utf8')), true, false);
  }
}

/** A problem in the request's language (X-Locale), English when there is no translation. */
export function translate(ctx: any, problem: Problem): string {
  const english = formatProblem(problem);
  if (typeof ctx?.t !== 'function') return english;
  const prefix = problem.prefix ? `${problem.prefix}: ` : '';
  const text = ctx.t(problem.text, {
    ns: NAMESPACE,
    ...(problem.values ?? {}),
    interpolation: { escapeValue: false },
    defaultValue: formatProblem({ ...problem, prefix: undefined }),
  });
  return typeof text === 'string' && text ? prefix + text : english;
}

/**
 * Validation errors of webhook workflows (the engine's, from our validateConfig, and ours from the
 * save hooks) answered in the admin's language: one message per field, as the engine renders them.
 */
export function translateValidationErrors() {
  return async (ctx: any, next: Next) => {
    try {
      await next();
    } catch (error: any) {
      if (ctx.action?.resourceName === 'workflows' && error?.name === 'WorkflowValidationError' && error.errors) {
        const problems: Record<string, Problem> | null =
          error.problems ?? configProblems((ctx.action?.params?.values?.config ?? {}) as RawWebhookConfig);
        if (problems) {
          for (const field of Object.keys(error.errors)) {
            if (problems[field]) error.errors[field] = translate(ctx, problems[field]);
          }
        }
      }
      throw error;
    }
  };
}
