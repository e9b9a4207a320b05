import { createMockServer, type MockServer } from '@nocobase/test';
import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { appPlugins } from '../../scripts/plugins';
import { freshDatabase } from './database';

export interface TestApp {
  app: MockServer;
  engine: PluginWorkflowServer;
  destroy: () => Promise<void>;
}

/** A real NocoBase app (workflow engine + this plugin) on a database of its own. */
export async function createTestApp(options: { acl?: boolean; plugins?: any[] } = {}): Promise<TestApp> {
  const db = await freshDatabase();
  const app = await createMockServer({
    acl: options.acl ?? false,
    database: db.options as any,
    resourcer: { prefix: '/api' },
    plugins: [...appPlugins(), ...(options.plugins ?? [])],
  } as any);
  return {
    app,
    engine: app.pm.get('workflow') as unknown as PluginWorkflowServer,
    destroy: async () => {
      await app.destroy();
      await db.drop();
    },
  };
}
