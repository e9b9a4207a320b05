import type { Application } from '@nocobase/server';

export const DEMO_KEY = 'demo';

/** An enabled sync webhook workflow at /api/webhooks/demo that answers with what it received. */
const DEMO_WORKFLOW = {
  title: 'Demo webhook',
  description: 'Created on first start. POST JSON to /api/webhooks/demo.',
  type: 'webhook',
  sync: true,
  config: { key: DEMO_KEY, methods: ['POST'] },
};
const DEMO_NODE = {
  type: 'webhook-response',
  title: 'Answer the caller',
  config: {
    status: 200,
    headers: { 'X-Workflow': 'demo' },
    body: { ok: true, received: '{{$context.data}}', method: '{{$context.method}}', ip: '{{$context.ip}}' },
  },
};

/** On first start, through the app's repositories (the lightweight runner, scripts/start.ts). */
export async function ensureDemoWorkflow(app: Application): Promise<void> {
  const repo = app.db.getRepository('workflows');
  const all = await repo.find({ filter: { type: 'webhook' } });
  if (all.some((w: any) => w.get('config')?.key === DEMO_KEY)) return;
  const workflow: any = await repo.create({ values: { ...DEMO_WORKFLOW, enabled: false } });
  await workflow.createNode(DEMO_NODE);
  await workflow.update({ enabled: true });
}

/** On first start, through NocoBase's HTTP API as root (the full app, scripts/serve-full-app.sh). */
export async function ensureDemoOverHttp(origin: string, account: string, password: string): Promise<void> {
  const call = async (action: string, values?: unknown, token?: string) => {
    const res = await fetch(`${origin}/api/${action}`, {
      method: values === undefined ? 'GET' : 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Authenticator': 'basic',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: values === undefined ? undefined : JSON.stringify(values),
    });
    const body = (await res.json()) as any;
    if (res.status >= 400) throw new Error(`${action}: ${res.status} ${JSON.stringify(body)}`);
    return body.data;
  };
  const { token } = await call('auth:signIn', { account, password });
  const existing = await call(
    `workflows:list?paginate=false&filter=${encodeURIComponent('{"type":"webhook"}')}`,
    undefined,
    token,
  );
  if (existing.some((w: any) => w.config?.key === DEMO_KEY)) return;
  const workflow = await call('workflows:create', DEMO_WORKFLOW, token);
  await call(`workflows/${workflow.id}/nodes:create`, DEMO_NODE, token);
  await call(`workflows:update?filterByTk=${workflow.id}`, { enabled: true }, token);
}

if (require.main === module) {
  const [origin, account, password] = process.argv.slice(2);
  ensureDemoOverHttp(origin, account, password).catch((error) => {
    console.error(`demo workflow not created: ${error.message}`);
    process.exit(1);
  });
}
