import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultText,
  rangeText,
  readSetting,
  readSettings,
  SETTINGS,
  type SettingName,
  SettingsError,
} from '../../src/server/settings';
import { databaseEnv, sharedStorage, startChildApp } from '../helpers/child-app';

const names = Object.keys(SETTINGS) as SettingName[];
const integers = names.filter((n) => SETTINGS[n].kind === 'integer');
const switches = names.filter((n) => SETTINGS[n].kind === 'switch');

/** The error `readSettings` throws for `env`, or null. */
function failure(env: Record<string, string>): SettingsError | null {
  try {
    readSettings(env);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
}

describe('WEBHOOK_* settings: one module reads and checks them', () => {
  it('applies every default when nothing is set', () => {
    const settings = readSettings({});
    for (const name of names) {
      if (name === 'WEBHOOK_SYNC_CONCURRENCY') continue;
      expect(settings[name], name).toBe(SETTINGS[name].default);
    }
  });

  it('WEBHOOK_SYNC_CONCURRENCY defaults to 1 on SQLite and 4 elsewhere', () => {
    expect(readSettings({}, 'sqlite').WEBHOOK_SYNC_CONCURRENCY).toBe(1);
    expect(readSettings({}, 'postgres').WEBHOOK_SYNC_CONCURRENCY).toBe(4);
    expect(readSettings({}, 'mariadb').WEBHOOK_SYNC_CONCURRENCY).toBe(4);
  });

  describe.each(integers)('%s', (name) => {
    const spec = SETTINGS[name] as { min: number; max: number };

    it('takes a valid value (its minimum, its maximum, one in between)', () => {
      for (const value of [spec.min, spec.max, Math.floor((spec.min + spec.max) / 2)]) {
        expect(readSettings({ [name]: String(value) })[name]).toBe(value);
      }
      expect(readSettings({ [name]: ` ${spec.min} ` })[name]).toBe(spec.min);
    });

    it.each([
      ['empty', ''],
      ['text', 'abc'],
      ['a fraction', '1.5'],
      ['a number with a unit', '10ms'],
      ['below the range', String(spec.min - 1)],
      ['above the range', String(spec.max + 1)],
      ['negative', '-5'],
    ])('refuses %s, naming the variable', (_label, raw) => {
      const error = failure({ [name]: raw });
      expect(error?.message).toContain(`${name} must be an integer from ${spec.min} to ${spec.max}`);
      expect(error?.message).toContain(JSON.stringify(raw));
    });
  });

  describe.each(switches)('%s', (name) => {
    it('takes on and off', () => {
      expect(readSettings({ [name]: 'on' })[name]).toBe('on');
      expect(readSettings({ [name]: 'off' })[name]).toBe('off');
    });
    it.each(['', 'abc', '0', 'false', 'OFF'])('refuses %j, naming the variable', (raw) => {
      expect(failure({ [name]: raw })?.message).toContain(`${name} must be "on" or "off"`);
    });
  });

  it('WEBHOOK_MOUNT takes gateway or app, and nothing else', () => {
    expect(readSettings({}).WEBHOOK_MOUNT).toBe('gateway');
    expect(readSettings({ WEBHOOK_MOUNT: 'app' }).WEBHOOK_MOUNT).toBe('app');
    expect(readSettings({ WEBHOOK_MOUNT: ' gateway ' }).WEBHOOK_MOUNT).toBe('gateway');
    for (const raw of ['', 'koa', 'Gateway', 'on']) {
      expect(failure({ WEBHOOK_MOUNT: raw })?.message).toContain('WEBHOOK_MOUNT must be one of "gateway", "app"');
    }
  });

  it('names every invalid variable at once', () => {
    const error = failure({
      WEBHOOK_SYNC_CONCURRENCY: '',
      WEBHOOK_DELIVERY_SWEEP_MS: 'abc',
      WEBHOOK_LOG_FLUSH_MS: '5',
    });
    expect(error?.problems).toHaveLength(2);
    expect(error?.message).toMatch(/WEBHOOK_SYNC_CONCURRENCY.*WEBHOOK_DELIVERY_SWEEP_MS/);
  });

  it('the cases of the issue: an empty concurrency and a sweep of 0 or abc stop start-up', () => {
    expect(failure({ WEBHOOK_SYNC_CONCURRENCY: '' })?.message).toContain('WEBHOOK_SYNC_CONCURRENCY');
    expect(failure({ WEBHOOK_SYNC_CONCURRENCY: '0' })?.message).toContain('WEBHOOK_SYNC_CONCURRENCY');
    expect(failure({ WEBHOOK_DELIVERY_SWEEP_MS: '0' })?.message).toContain('WEBHOOK_DELIVERY_SWEEP_MS');
    expect(failure({ WEBHOOK_DELIVERY_SWEEP_MS: 'abc' })?.message).toContain('WEBHOOK_DELIVERY_SWEEP_MS');
  });

  it('readSetting checks one variable with a default of its own (the soak runner)', () => {
    expect(readSetting('WEBHOOK_DELIVERY_MAX_ROWS', 500, {})).toBe(500);
    expect(readSetting('WEBHOOK_DELIVERY_MAX_ROWS', 500, { WEBHOOK_DELIVERY_MAX_ROWS: '42' })).toBe(42);
    expect(() => readSetting('WEBHOOK_DELIVERY_MAX_ROWS', 500, { WEBHOOK_DELIVERY_MAX_ROWS: 'x' })).toThrow(
      /WEBHOOK_DELIVERY_MAX_ROWS/,
    );
  });

  it('no source file reads a WEBHOOK_ variable from the environment but this module', () => {
    let hits = '';
    try {
      hits = execFileSync(
        'grep',
        ['-rnE', 'env(\\.|\\[.)WEBHOOK_', 'src', 'scripts', 'bench', 'soak', '--include=*.ts', '--include=*.tsx'],
        { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8' },
      );
    } catch (error) {
      if ((error as { status?: number }).status !== 1) throw error; // 1: no match
    }
    expect(hits).toBe('');
  });
});

describe("README's environment-variable table", () => {
  const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Environment variables'));
  const rows = (section ?? '')
    .split('\n')
    .filter((line) => /^\| `WEBHOOK_/.test(line))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  const documented = new Map(rows.map((cells) => [cells[1].replace(/`/g, ''), cells]));

  it('has a section with the table', () => {
    expect(section).toBeTruthy();
    expect(rows.length).toBeGreaterThan(0);
  });

  it('lists every variable of the settings module, with its default, range and unit', () => {
    for (const name of names) {
      const cells = documented.get(name);
      expect(cells, `${name} is missing from the README's table`).toBeTruthy();
      expect(cells?.[2], `${name} default`).toBe(defaultText(name));
      expect(cells?.[3], `${name} range`).toBe(rangeText(name));
      expect(cells?.[4], `${name} unit`).toBe(SETTINGS[name].unit);
    }
  });

  it('lists no variable that the settings module does not read', () => {
    expect([...documented.keys()].filter((n) => !(n in SETTINGS))).toEqual([]);
  });

  it('every WEBHOOK_ variable named anywhere in the README is in the table', () => {
    const mentioned = new Set(readme.match(/\bWEBHOOK_[A-Z_]+\b/g));
    expect([...mentioned].filter((n) => !(n in SETTINGS))).toEqual([]);
  });
});

describe('start-up with an invalid setting', () => {
  it('WEBHOOK_SYNC_CONCURRENCY=abc: the app stops before it serves, naming the variable', async () => {
    const storage = sharedStorage();
    const env = {
      ...databaseEnv({ dialect: 'sqlite', storage: path.join(storage, 'db.sqlite') }),
      STORAGE_PATH: storage,
      WEBHOOK_SYNC_CONCURRENCY: 'abc',
    };
    const error = await startChildApp(env).then(
      async (app) => {
        await app.kill();
        return null;
      },
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/exited with [1-9]/);
    expect(error?.message).toContain('WEBHOOK_SYNC_CONCURRENCY must be an integer from 1 to 10000');
  }, 120_000);
});
