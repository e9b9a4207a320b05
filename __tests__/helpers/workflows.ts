import type { WorkflowModel } from '@nocobase/plugin-workflow';
import type { MockServer } from '@nocobase/test';

export interface NodeSpec {
  type: string;
  config?: Record<string, unknown>;
}

let counter = 0;

/** Creates a webhook workflow with a chain of nodes through the app's repositories. */
export async function createWebhookWorkflow(
  app: MockServer,
  {
    sync = false,
    enabled = true,
    config = {},
    nodes = [] as NodeSpec[],
    title,
  }: {
    sync?: boolean;
    enabled?: boolean;
    config?: Record<string, unknown>;
    nodes?: NodeSpec[];
    title?: string;
  } = {},
): Promise<WorkflowModel> {
  const workflow = (await app.db.getRepository('workflows').create({
    values: { title: title ?? `webhook ${++counter}`, type: 'webhook', sync, enabled: false, config },
  })) as WorkflowModel;
  let previous: any = null;
  for (const spec of nodes) {
    const node: any = await (workflow as any).createNode({
      type: spec.type,
      config: spec.config ?? {},
      upstreamId: previous?.id ?? null,
    });
    if (previous) await previous.update({ downstreamId: node.id });
    previous = node;
  }
  if (enabled) await workflow.update({ enabled: true });
  return workflow;
}

/** Waits until `count` executions of the workflow key reach a final status. */
export async function waitForExecutions(app: MockServer, workflowKey: string, count: number, timeoutMs = 20_000) {
  const started = Date.now();
  for (;;) {
    const rows = await app.db.getRepository('executions').find({ filter: { key: workflowKey }, sort: 'id' });
    const done = rows.filter((r: any) => r.status !== null && r.status !== 0);
    if (done.length >= count) return rows;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `timed out waiting for ${count} executions of ${workflowKey}; have ${rows.length}, done ${done.length}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the batched delivery log has written `count` rows matching `filter` (as plain objects). */
export async function waitForDeliveries(app: MockServer, filter: any, count = 1, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await app.db.getRepository('webhookDeliveries').find({ filter, sort: ['createdAt'] });
    if (rows.length >= count || Date.now() > deadline) return rows.map((r: any) => r.toJSON());
    await new Promise((r) => setTimeout(r, 50));
  }
}
