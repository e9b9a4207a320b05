import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { createMockServer, type MockServer } from '@nocobase/test';
import { answerClientErrorsAsJson } from '../../scripts/client-error';
import { appPlugins } from '../../scripts/plugins';
import { freshDatabase } from './database';

export interface TestApp {
  app: MockServer;
  engine: PluginWorkflowServer;
  /** Serves the app on a loopback port (once) and returns its origin, for raw HTTP requests. */
  listen: () => Promise<string>;
  destroy: () => Promise<void>;
}

let storage: string | undefined;

/** A real NocoBase app (workflow engine + this plugin) on a database of its own. */
export async function createTestApp(options: { acl?: boolean; plugins?: any[] } = {}): Promise<TestApp> {
  const db = await freshDatabase();
  // Uploads and the secrets key file of each test file stay in a folder of its own (shared by
  // the apps of one file: an app restarted on the same database finds the same key).
  storage ??= mkdtempSync(path.join(os.tmpdir(), 'webhook-storage-'));
  process.env.STORAGE_PATH = storage;
  const app = await createMockServer({
    acl: options.acl ?? false,
    database: db.options as any,
    resourcer: { prefix: '/api' },
    plugins: [...appPlugins(), ...(options.plugins ?? [])],
  } as any);
  let server: Server | null = null;
  return {
    app,
    engine: app.pm.get('workflow') as unknown as PluginWorkflowServer,
    listen: async () => {
      if (!server) {
        server = createServer(app.callback());
        answerClientErrorsAsJson(server);
        await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      }
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    destroy: async () => {
      if (server) await new Promise((resolve) => server?.close(resolve));
      await app.destroy();
      await db.drop();
    },
  };
}

/** The root user that the app's installation created (INIT_ROOT_EMAIL). */
export function rootUser(app: MockServer): Promise<any> {
  return app.db
    .getRepository('users')
    .findOne({ filter: { email: process.env.INIT_ROOT_EMAIL ?? 'admin@nocobase.com' } });
}
