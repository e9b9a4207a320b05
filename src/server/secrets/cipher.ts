import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** How a sealed secret starts: stored in `workflow.config` in place of the secret. */
export const SEALED_PREFIX = 'enc:v1:';

/** APP_KEY values that NocoBase's samples and tests ship with: never a key. */
const PLACEHOLDER_KEYS = new Set(['', 'your-secret-key', 'test-key']);

/**
 * Seals the verification secrets of webhook workflows where they are stored: AES-256-GCM under
 * a key derived from WEBHOOK_SECRET_KEY, else the app's APP_KEY, else a random key kept in the
 * storage folder. Whatever a caller can read of a workflow (any resource, `fields`, `appends`),
 * the stored config holds only `enc:v1:…`, never the secret.
 */
export class SecretCipher {
  private readonly key: Buffer;

  constructor(material: Buffer | string) {
    this.key = Buffer.from(hkdfSync('sha256', material, 'nocobase-webhook-trigger', 'verification secrets', 32));
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const parts = [iv, data, cipher.getAuthTag()].map((b) => b.toString('base64url'));
    return `${SEALED_PREFIX}${parts.join('.')}`;
  }

  /** The secret, or null when it was sealed under another key (or is not a sealed value). */
  open(sealed: string): string | null {
    if (!SecretCipher.isSealed(sealed)) return null;
    const [iv, data, tag] = sealed
      .slice(SEALED_PREFIX.length)
      .split('.')
      .map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !data || !tag || iv.length !== 12 || tag.length !== 16) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/**
 * The key material, in order: `own` (WEBHOOK_SECRET_KEY), the app's APP_KEY, the key file (made
 * once, e.g. `{storage}/webhook-trigger/secret.key`).
 */
export function secretKeyMaterial(file: string, own: string, appKey = process.env.APP_KEY ?? ''): Buffer | string {
  if (own) return own;
  if (!PLACEHOLDER_KEYS.has(appKey)) return appKey;
  try {
    return readFileSync(file);
  } catch {
    const key = randomBytes(32);
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      // Another process made it first.
      return readFileSync(file);
    }
  }
}
