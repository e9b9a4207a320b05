import type { Problem } from './checks';

/**
 * Messages the server sends to the admin UI (validation errors of workflows:create/update), as
 * problems: an English text with {{placeholders}} (a key of src/locale) and its values. The
 * server answers them in the admin's language (X-Locale); `formatProblem` gives the English.
 */
const msg = (text: string, values?: Record<string, string | number>): Problem => ({ text, values });

export const MESSAGES = {
  keyInUse: (key: string, title: string, id: string | number) =>
    msg('Webhook key "{{key}}" is already used by the enabled workflow "{{title}}" (id {{id}})', { key, title, id }),
  enterSecret: (field: string) => msg('Verification: enter the {{field}}', { field }),
  pathNotString: () => msg('Webhook path must be a string such as "/orders/:id"'),
  pathInvalid: (error: string) => msg('Webhook path is not a valid pattern: {{error}}', { error }),
  verification: (message: string) => msg('Verification: {{message}}', { message }),
  schemaNotObject: () => msg('bodySchema must be a JSON Schema object'),
  schemaInvalid: (error: string) => msg('bodySchema is not a valid JSON Schema: {{error}}', { error }),
  testCannotSign: (type: string) =>
    msg(
      'A test request cannot be signed for "{{type}}": only the sender\'s public key is stored here, and the private key that signs stays with the sender. Send a real request from the sender instead.',
      { type },
    ),
  testNoHandshake: (type: string) => msg('The verification "{{type}}" has no handshake to try', { type }),
};
