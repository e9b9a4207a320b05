import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { WebhookError } from '../answer';

const draft07 = addFormats(new Ajv({ allErrors: true, strict: false }));
const draft2020 = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const compiled = new WeakMap<object, ValidateFunction>();

function engineFor(schema: Record<string, unknown>): Ajv {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  return (declared.includes('draft-07') || declared.includes('draft-06') ? draft07 : draft2020) as Ajv;
}

/** Compiles a body schema (draft 2020-12 by default, draft-07 when it says so); throws if invalid. */
export function compileSchema(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    const copy = { ...(schema as Record<string, unknown>) };
    delete copy.$id;
    fn = engineFor(copy).compile(copy);
    compiled.set(schema, fn);
  }
  return fn;
}

/** Checks the parsed body against the webhook's schema: 422 with the failed rules. */
export function checkSchema(schema: object, data: unknown): void {
  const validate = compileSchema(schema);
  if (validate(data)) return;
  const details = (validate.errors ?? []).slice(0, 50).map((e: ErrorObject) => ({
    path: e.instancePath || '/',
    rule: e.keyword,
    message: e.message ?? 'is invalid',
    params: e.params,
  }));
  throw new WebhookError('SCHEMA_VALIDATION_FAILED', 'Body does not match the webhook schema', { details });
}
