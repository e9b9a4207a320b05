import type { Problem, ProblemValue } from './problem';

/**
 * Messages the server sends to the admin UI (validation errors of workflows:create/update and of
 * the Webhook response node), as problems: an English text with {{placeholders}} (a key of
 * src/locale) and its values. The server answers them in the admin's language (X-Locale), inner
 * problems (a field's label, the message of a verification field) included; `formatProblem`
 * gives the English.
 */
const msg = (text: string, values?: Record<string, ProblemValue>): Problem => ({ text, values });

/** The verification fields by the label the admin form shows them with. */
const FIELD_LABELS: Record<string, Problem> = {
  username: msg('Username'),
  password: msg('Password'),
  token: msg('Token'),
  secret: msg('Secret'),
  header: msg('Header'),
  algorithm: msg('Algorithm'),
  encoding: msg('Encoding'),
  prefix: msg('Signature prefix'),
  toleranceSeconds: msg('Timestamp tolerance'),
  encodingAESKey: msg('EncodingAESKey'),
  aesKey: msg('aes_key'),
  receiveId: msg('Receiver ID (CorpID)'),
  ownerKey: msg('Owner key'),
  verificationToken: msg('Verification Token'),
  encryptKey: msg('Encrypt Key'),
  verifyToken: msg('Verify Token'),
  clientState: msg('clientState'),
  authToken: msg('Auth Token'),
  publicKey: msg('Public key'),
  url: msg('URL at Twilio'),
  message: msg('Signed message'),
  timestampHeader: msg('Timestamp header'),
  idHeader: msg('Id header'),
  preset: msg('Sender preset'),
};

/** A verification field's label (its name when it has none). */
export const fieldLabel = (field: string): ProblemValue =>
  Object.hasOwn(FIELD_LABELS, field) ? FIELD_LABELS[field] : field;

export const MESSAGES = {
  keyInUse: (key: string, title: string, id: string | number) =>
    msg('Webhook key "{{key}}" is already used by the enabled workflow "{{title}}" (id {{id}})', { key, title, id }),
  enterSecret: (field: string) => msg('Verification: enter the {{field}}', { field: fieldLabel(field) }),
  pathNotString: () => msg('Webhook path must be a string such as "/orders/:id"'),
  pathInvalid: (error: string) => msg('Webhook path is not a valid pattern: {{error}}', { error }),
  verification: (message: Problem) => msg('Verification: {{message}}', { message }),
  schemaNotObject: () => msg('bodySchema must be a JSON Schema object'),
  schemaInvalid: (error: string) => msg('bodySchema is not a valid JSON Schema: {{error}}', { error }),
  testCannotSign: (type: string) =>
    msg(
      'A test request cannot be signed for "{{type}}": only the sender\'s public key is stored here, and the private key that signs stays with the sender. Send a real request from the sender instead.',
      { type },
    ),
  testNoHandshake: (type: string) => msg('The verification "{{type}}" has no handshake to try', { type }),
  responseStatus: () => msg('Status must be an HTTP status code between 100 and 599'),
};

/** What is wrong with one field of a `verification` object (`field` is its name, shown by its label). */
export const VERIFICATION_MESSAGES = {
  notObject: (types: string) => msg('Verification must be an object whose type is one of {{types}}', { types }),
  type: (types: string) => msg('Verification type must be one of {{types}}', { types }),
  required: (field: string) => msg('{{field}} is required', { field: fieldLabel(field) }),
  secret: (field: string) =>
    msg('{{field}} must be a non-empty string, or a list of non-empty strings to rotate without downtime', {
      field: fieldLabel(field),
    }),
  headerName: (field: string) => msg('{{field}} must be a header name', { field: fieldLabel(field) }),
  oneOf: (field: string, values: string) =>
    msg('{{field}} must be one of {{values}}', { field: fieldLabel(field), values }),
  text: (field: string) => msg('{{field}} must be text', { field: fieldLabel(field) }),
  seconds: (field: string) => msg('{{field}} must be a positive number of seconds', { field: fieldLabel(field) }),
  aesKey: (field: string) =>
    msg('{{field}} must be 43 letters and digits (or a list of them)', { field: fieldLabel(field) }),
  publicKey: (field: string) =>
    msg('{{field}} must be 64 hexadecimal characters (or a list of them)', { field: fieldLabel(field) }),
  url: (field: string) => msg('{{field}} must be the http(s) URL entered at the sender', { field: fieldLabel(field) }),
  template: (field: string) =>
    msg('{{field}} must be a template that contains {body}, e.g. {timestamp}.{body}', { field: fieldLabel(field) }),
  standardSecret: (field: string) =>
    msg(
      '{{field}} must be whsec_ followed by base64 (or a whpk_ public key), as shown by the sender (or a list of them)',
      {
        field: fieldLabel(field),
      },
    ),
};
