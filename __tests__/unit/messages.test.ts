import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { createWebhookWorkflow } from '../helpers/workflows';

// Issue 13: messages the admin UI shows carry a code and values and come in the admin's language.
describe('validation messages in the admin language', () => {
  let t: TestApp;
  let agent: any;

  beforeAll(async () => {
    t = await createTestApp();
    await createWebhookWorkflow(t.app, { title: 'First', config: { key: 'taken' } });
    agent = t.app.agent();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const create = (locale: string, config: Record<string, unknown>, enabled = true) =>
    agent
      .post('/api/workflows:create')
      .set('X-Locale', locale)
      .send({ title: 'Second', type: 'webhook', sync: false, enabled, config });

  it('the key clash', async () => {
    const zh = await create('zh-CN', { key: 'taken' });
    expect(zh.status).toBe(400);
    expect(zh.body.errors[0].message).toMatch(/^Webhook 键 “taken” 已被已启用的工作流 “First”（id \d+）使用$/);
    const en = await create('en-US', { key: 'taken' });
    expect(en.body.errors[0].message).toMatch(/^Webhook key "taken" is already used by the enabled workflow "First"/);
  });

  it('config checks, one message per field', async () => {
    const fr = await create('fr-FR', { key: 'other', maxBodyBytes: 0, bodySchema: 'nope' }, false);
    expect(fr.status).toBe(400);
    const messages = fr.body.errors.map((e: any) => e.message);
    expect(messages).toHaveLength(2);
    expect(messages).toContain('Le JSON Schema du corps doit être un objet');
    expect(messages).toContain(`maxBodyBytes: ${'Doit être un entier supérieur à 0, reçu 0'}`);
  });

  it('webhook callers keep English errors', async () => {
    const res = await t.app.agent().post('/api/webhooks/none-such').set('X-Locale', 'zh-CN').send({});
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'NOT_FOUND', message: 'No enabled webhook workflow has this key' });
  });
});
