/**
 * A message as data: an English text with `{{placeholders}}` (a key of src/locale) and their
 * values, rendered in the reader's language by the admin form, and by the server from the
 * admin's X-Locale. Nothing here may need Node.
 */
export interface Problem {
  text: string;
  /** Values of the placeholders; a value that is itself a problem is translated on its own. */
  values?: Record<string, ProblemValue>;
  /** Put in front of the message (untranslated): the field's name in the server's messages. */
  prefix?: string;
}

export type ProblemValue = string | number | Problem;

/**
 * A problem's text in one language: `t` translates a text and fills in its values; a value that is
 * a problem (a field's label, an inner message) is rendered first, in the same language. Without
 * its prefix.
 */
export function renderProblem(
  problem: Problem,
  t: (text: string, values: Record<string, string | number>) => string,
): string {
  const values: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(problem.values ?? {})) {
    values[name] = typeof value === 'object' && value !== null ? renderProblem(value, t) : value;
  }
  return t(problem.text, values);
}

/** Fills `{{name}}` placeholders (the English of a problem). */
const fill = (text: string, values: Record<string, string | number>) =>
  text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => String(values[name] ?? ''));

/** The problem in English with its values filled in (the server's messages). */
export function formatProblem(problem: Problem): string {
  return (problem.prefix ? `${problem.prefix}: ` : '') + renderProblem(problem, fill);
}
