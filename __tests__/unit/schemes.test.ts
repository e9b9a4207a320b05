import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AES_KEY_FIELDS,
  FIELD_NAMES,
  FIELDS,
  fieldsOf,
  SCHEME_SENSITIVE_HEADERS,
  SCHEMES,
  SECRET_FIELDS,
} from '../../src/common/schemes';
import { REDACTED, redactHeaders } from '../../src/server/deliveries/redact';
import { BEHAVIOURS, credentialHeaders, VERIFICATION_TYPES, validateVerification } from '../../src/server/verify';
import { canSign, HANDSHAKE_TRIALS, SIGNERS } from '../../src/server/verify/sign';

const LOCALES = ['en-US', 'zh-CN', 'ko-KR', 'uk-UA', 'id-ID', 'fr-FR'];
const locale = (lang: string): Record<string, string> =>
  JSON.parse(readFileSync(path.resolve(__dirname, '../..', 'src', 'locale', `${lang}.json`), 'utf8'));

/** The one table of schemes (src/common/schemes.ts) and what the server and the form derive from it. */
describe('the table of verification schemes', () => {
  const types = SCHEMES.map((s) => s.type);

  it('has one row per type, and every row has a verifier and every verifier a row', () => {
    expect(new Set(types).size).toBe(types.length);
    expect([...types].sort()).toEqual(Object.keys(BEHAVIOURS).sort());
    expect(VERIFICATION_TYPES).toEqual(types);
  });

  it('has a signer exactly for the rows that say a test request can be signed', () => {
    expect(types.filter((t) => SCHEMES.find((s) => s.type === t)?.canSign).sort()).toEqual(Object.keys(SIGNERS).sort());
    for (const type of types) expect(canSign(type), type).toBe(Object.hasOwn(SIGNERS, type));
  });

  it('lets the admin try the handshake of every row that has one and can be signed', () => {
    expect(
      SCHEMES.filter((s) => s.handshake && s.canSign)
        .map((s) => s.type)
        .sort(),
    ).toEqual(Object.keys(HANDSHAKE_TRIALS).sort());
  });

  it('names only known fields, each once', () => {
    for (const scheme of SCHEMES) {
      const fields = fieldsOf(scheme);
      expect(new Set(fields).size, scheme.type).toBe(fields.length);
      for (const f of fields) expect(FIELD_NAMES, `${scheme.type}.${f}`).toContain(f);
      for (const f of Object.keys(scheme.describe ?? {})) expect(fields, `${scheme.type}.${f}`).toContain(f);
      if (scheme.credentialHeaderField) expect(fields).toContain(scheme.credentialHeaderField);
    }
  });

  it('reads toleranceSeconds only in timestamped schemes', () => {
    for (const scheme of SCHEMES) {
      if (fieldsOf(scheme).includes('toleranceSeconds')) expect(scheme.timestamped, scheme.type).not.toBe(false);
    }
  });

  it('makes the secret fields of the spec, and the 43-character AES keys', () => {
    expect([...SECRET_FIELDS].sort()).toEqual(
      [
        'token',
        'encodingAESKey',
        'aesKey',
        'verificationToken',
        'encryptKey',
        'verifyToken',
        'authToken',
        'clientState',
        'secret',
        'password',
      ].sort(),
    );
    expect([...AES_KEY_FIELDS].sort()).toEqual(['aesKey', 'encodingAESKey']);
  });

  it('every label, help and field text is in all six locale files', () => {
    const keys = SCHEMES.flatMap((s) => [s.label, s.help, ...Object.values(s.describe ?? {})]);
    for (const f of FIELD_NAMES) {
      const { form } = FIELDS[f];
      keys.push(form.title, ...[form.description, form.invalid].filter((k): k is string => !!k));
    }
    for (const lang of LOCALES) {
      const messages = locale(lang);
      expect(
        keys.filter((k) => !(k in messages)),
        lang,
      ).toEqual([]);
    }
  });

  it('validation requires each row’s required fields and nothing else', () => {
    for (const scheme of SCHEMES) {
      const errors = validateVerification({ type: scheme.type }) ?? {};
      expect(Object.keys(errors).sort(), scheme.type).toEqual([...scheme.required].sort());
    }
  });

  it('the log redacts every signature and credential header of every row; executions only the credentials', () => {
    for (const scheme of SCHEMES) {
      for (const header of [...scheme.signatureHeaders, ...scheme.credentialHeaders]) {
        expect(SCHEME_SENSITIVE_HEADERS).toContain(header);
        expect(redactHeaders({ [header]: 'x' })[header], `${scheme.type}: ${header}`).toBe(REDACTED);
      }
      expect(credentialHeaders({ type: scheme.type }), scheme.type).toEqual(scheme.credentialHeaders);
    }
    expect(credentialHeaders({ type: 'token', header: 'X-Gitlab-Token' })).toEqual(['x-gitlab-token']);
  });
});
