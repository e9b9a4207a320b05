import type { Application } from '@nocobase/server';

export const DEMO_KEY = 'demo';

/**
 * On first start: an enabled sync webhook workflow at /api/webhooks/demo whose Webhook response
 * node answers with what it received, so that a first curl shows a real workflow run.
 */
export async function ensureDemoWorkflow(app: Application): Promise<void> {
  const repo = app.db.getRepository('workflows');
  const all = await repo.find({ filter: { type: 'webhook' } });
  if (all.some((w: any) => w.get('config')?.key === DEMO_KEY)) return;
  const workflow: any = await repo.create({
    values: {
      title: 'Demo webhook',
      description: 'Created on first start. POST JSON to /api/webhooks/demo.',
      type: 'webhook',
      sync: true,
      enabled: false,
      config: { key: DEMO_KEY, methods: ['POST'] },
    },
  });
  await workflow.createNode({
    type: 'webhook-response',
    title: 'Answer the caller',
    config: {
      status: 200,
      headers: { 'X-Workflow': 'demo' },
      body: { ok: true, received: '{{$context.data}}', method: '{{$context.method}}', ip: '{{$context.ip}}' },
    },
  });
  await workflow.update({ enabled: true });
}
