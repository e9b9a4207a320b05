import { createMockServer, type MockServer } from '@nocobase/test';
import { beforeAll, describe, expect, it } from 'vitest';
import { appPlugins, NOCOBASE_PLUGINS } from '../../scripts/plugins';
import { freshDatabase } from '../helpers/database';

interface TopoItem {
  group: string;
  node: { name?: string };
}

/** The app's middleware in the order a request meets them: tags, or function names of untagged ones. */
const order = (app: MockServer): string[] =>
  ((app as any).middleware._items as TopoItem[]).map((i) =>
    i.group === '?' ? i.node?.name || '(anonymous)' : i.group,
  );

const OURS = new Set(['webhooks', 'webhookMaskSecrets']);

// The plugin mounts its route at the head of the chain without moving NocoBase's own middleware.
describe("the host's middleware order", () => {
  let host: string[];
  let withPlugin: string[];

  /** The middleware order of an app with these plugins (one app at a time: they share a name). */
  const orderWith = async (plugins: any[]) => {
    const db = await freshDatabase();
    const app = await createMockServer({
      acl: false,
      database: db.options as any,
      resourcer: { prefix: '/api' },
      plugins,
    } as any);
    try {
      return order(app);
    } finally {
      await app.destroy();
      await db.drop();
    }
  };

  beforeAll(async () => {
    host = await orderWith([...NOCOBASE_PLUGINS]);
    withPlugin = await orderWith(appPlugins());
  });

  it('keeps every host middleware in the same relative order', () => {
    console.log(JSON.stringify({ host, withPlugin }));
    expect(withPlugin.filter((tag) => !OURS.has(tag))).toEqual(host);
  });

  it('puts the webhook route before the request logger, the body parser and the rest', () => {
    const at = withPlugin.indexOf('webhooks');
    expect(at).toBe(0);
    for (const tag of [
      'generateReqId',
      'logger',
      'bodyParser',
      'audit',
      'i18n',
      'cors',
      'dataWrapping',
      'dataSource',
    ]) {
      expect(withPlugin.indexOf(tag), tag).toBeGreaterThan(at);
    }
  });

  it('masks secrets inside dataWrapping, before the data source answers', () => {
    const mask = withPlugin.indexOf('webhookMaskSecrets');
    expect(mask).toBeGreaterThan(withPlugin.indexOf('dataWrapping'));
    expect(mask).toBeLessThan(withPlugin.indexOf('dataSource'));
  });
});
