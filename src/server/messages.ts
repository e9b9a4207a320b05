import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Next } from 'koa';
import { formatProblem, type Problem, renderProblem } from '../common/checks';
import { RESPONSE_INSTRUCTION } from '../common/constants';
import { configProblems, type RawWebhookConfig } from './config';
import { responseNodeProblems } from './response-node';

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
  // Inner problems (a field's label, a verification field's message) in the same language.
  const text = renderProblem(problem, (key, values) => {
    const translated = ctx.t(key, {
      ns: NAMESPACE,
      ...values,
      interpolation: { escapeValue: false },
      defaultValue: formatProblem({ text: key, values }),
    });
    return typeof translated === 'string' && translated ? translated : formatProblem({ text: key, values });
  });
  return text ? prefix + text : english;
}

/**
 * Validation errors of webhook workflows (the engine's, from our validateConfig, and ours from the
 * save hooks) and of Webhook response nodes answered in the admin's language: one message per
 * field, as the engine renders them.
 */
export function translateValidationErrors() {
  return async (ctx: any, next: Next) => {
    try {
      await next();
    } catch (error: any) {
      const values = ctx.action?.params?.values ?? {};
      let problems: Record<string, Problem> | null = null;
      if (ctx.action?.resourceName === 'workflows' && error?.name === 'WorkflowValidationError' && error.errors) {
        problems = error.problems ?? configProblems((values.config ?? {}) as RawWebhookConfig);
      } else if (error?.name === 'NodeValidationError' && error.errors && (await isResponseNode(ctx, values))) {
        problems = responseNodeProblems(values.config ?? {});
      }
      if (problems) {
        for (const field of Object.keys(error.errors)) {
          if (problems[field]) error.errors[field] = translate(ctx, problems[field]);
        }
      }
      throw error;
    }
  };
}

/** A flow node action on a Webhook response node (its type is in the values on create, else stored). */
async function isResponseNode(ctx: any, values: Record<string, any>): Promise<boolean> {
  if (values.type) return values.type === RESPONSE_INSTRUCTION;
  const id = ctx.action?.params?.filterByTk;
  if (id === undefined || id === null || !ctx.db) return false;
  try {
    const node = await ctx.db.getRepository('flow_nodes').findOne({ filterByTk: id, fields: ['id', 'type'] });
    return node?.get('type') === RESPONSE_INSTRUCTION;
  } catch {
    return false;
  }
}
