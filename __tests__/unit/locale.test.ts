import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The languages NocoBase's webhook documentation is read in. */
const LOCALES = ['en-US', 'zh-CN', 'ko-KR', 'uk-UA', 'id-ID', 'fr-FR'];
const root = path.resolve(__dirname, '../..');

/**
 * Words that stay the same in every language: protocol and product names, units and formats.
 * A non-English value equal to its English key is allowed only when it is made of these.
 */
const UNTRANSLATED = new Set(['Webhook', 'URL', 'IP', 'CORS', 'JSON', 'HMAC', 'HTTP', 'ms', 'OK']);
/** Words a language uses as they are in English (loanwords), by language. */
const SAME_IN: Record<string, string[]> = {
  'id-ID': ['Status', 'Body', 'Endpoint', 'per'],
  'fr-FR': ['Test', 'Tests', 'Version'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(tsx?|jsx?)$/.test(name) ? [file] : [];
  });
}

/**
 * UI strings of src/client: the literal first argument of `t(...)`, `tval(...)`, `tr(...)` and
 * `msg(...)` (the last marks strings that are translated later).
 */
export function uiStrings(): Map<string, string> {
  const found = new Map<string, string>();
  const call = /\b(?:t|tval|tr|msg)\(\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|`((?:\\.|[^`\\$])*)`)\s*[,)]/g;
  // src/common holds the configuration checks' messages, shown (translated) by the form.
  const files = [...sourceFiles(path.join(root, 'src', 'client')), ...sourceFiles(path.join(root, 'src', 'common'))];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(call)) {
      const raw = m[1] ?? m[2] ?? m[3] ?? '';
      const value = raw.replace(/\\(['"`\\])/g, '$1').replace(/\\n/g, '\n');
      found.set(value, path.relative(root, file));
    }
  }
  return found;
}

const read = (lang: string): Record<string, string> =>
  JSON.parse(readFileSync(path.join(root, 'src', 'locale', `${lang}.json`), 'utf8'));

describe('locales', () => {
  const en = read('en-US');

  it('finds the UI strings of src/client', () => {
    expect(uiStrings().size).toBeGreaterThan(50);
  });

  it('en-US has every UI string used in src/client', () => {
    const missing = [...uiStrings()].filter(([key]) => !(key in en)).map(([key, file]) => `${file}: ${key}`);
    expect(missing).toEqual([]);
  });

  it('en-US has no keys that src/client no longer uses', () => {
    const used = uiStrings();
    expect(Object.keys(en).filter((key) => !used.has(key))).toEqual([]);
  });

  for (const lang of LOCALES) {
    describe(lang, () => {
      const messages = read(lang);

      it('has exactly the keys of en-US', () => {
        expect(Object.keys(en).filter((key) => !(key in messages))).toEqual([]);
        expect(Object.keys(messages).filter((key) => !(key in en))).toEqual([]);
      });

      it('has a non-empty text for every key, with the same {{placeholders}}', () => {
        for (const [key, value] of Object.entries(messages)) {
          expect(typeof value === 'string' && value.trim() !== '', `${lang}: ${key}`).toBe(true);
          const vars = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
          expect(vars(value), `${lang}: ${key}`).toEqual(vars(key));
        }
      });

      if (lang !== 'en-US') {
        it('leaves no English text untranslated', () => {
          const same = Object.entries(messages)
            .filter(([key, value]) => value === en[key])
            .filter(([key]) => !(SAME_IN[lang] ?? []).includes(key))
            .filter(([key]) => !key.split(/[^A-Za-z]+/).every((w) => !w || UNTRANSLATED.has(w)));
          expect(same.map(([key]) => key)).toEqual([]);
        });
      }
    });
  }
});

// French typography: a non-breaking space before : ; ? ! and inside « » (a plain space lets the
// line break before the sign).
describe('fr-FR typography', () => {
  const fr: Record<string, string> = JSON.parse(readFileSync(path.join(root, 'src', 'locale', 'fr-FR.json'), 'utf8'));
  it('has no plain space before : ; ? ! and inside « »', () => {
    const bad = Object.values(fr).filter((v) => / [:;?!](\s|»|"|$)/.test(v) || /« | »/.test(v));
    expect(bad).toEqual([]);
  });
});
