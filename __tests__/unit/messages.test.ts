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

  it('verification messages: the inner message and the field label in the admin language too', async () => {
    const config = { key: 'inner', verification: { type: 'wecom', token: 't', encodingAESKey: 'short' } };
    const zh = await create('zh-CN', config, false);
    expect(zh.status).toBe(400);
    expect(zh.body.errors.map((e: any) => e.message)).toEqual([
      '验证：EncodingAESKey（消息加解密密钥） 必须是 43 个字母或数字（或由它们组成的列表）',
    ]);
    const fr = await create(
      'fr-FR',
      { key: 'inner', verification: { type: 'hmac', secret: 's', header: 'X-Sig', algorithm: 'md5' } },
      false,
    );
    expect(fr.body.errors.map((e: any) => e.message)).toEqual([
      'Vérification\u00a0: Algorithme doit être l’une de ces valeurs\u00a0: sha1, sha256, sha512',
    ]);
    const en = await create('en-US', config, false);
    expect(en.body.errors[0].message).toBe(
      'Verification: EncodingAESKey must be 43 letters and digits (or a list of them)',
    );
    // No English left in any locale: the message differs from the English one.
    for (const locale of ['ko-KR', 'uk-UA', 'id-ID']) {
      const res = await create(locale, config, false);
      expect(res.body.errors[0].message).not.toMatch(/must be|letters/);
    }
  });

  it("a filter's problem in the admin language", async () => {
    const zh = await create('zh-CN', { key: 'inner', filter: { a: { $regex: 'x' } } }, false);
    expect(zh.body.errors.map((e: any) => e.message)).toEqual(['filter: 不是有效的筛选条件：未知的运算符 $regex']);
  });

  it('the Webhook response node status, in the admin language', async () => {
    const w = await createWebhookWorkflow(t.app, { title: 'Sync', sync: true, config: { key: 'node-status' } });
    const zh = await agent
      .post(`/api/workflows/${w.id}/nodes:create`)
      .set('X-Locale', 'zh-CN')
      .send({ type: 'webhook-response', title: 'R', config: { status: 42 } });
    expect(zh.status).toBe(400);
    expect(zh.body.errors.map((e: any) => e.message)).toEqual(['状态码必须是 100 到 599 之间的 HTTP 状态码']);
    const ok = await agent
      .post(`/api/workflows/${w.id}/nodes:create`)
      .send({ type: 'webhook-response', title: 'R', config: { status: 201 } });
    expect(ok.status).toBe(200);
    const id = ok.body.data.id;
    const fr = await agent
      .post(`/api/flow_nodes:update?filterByTk=${id}`)
      .set('X-Locale', 'fr-FR')
      .send({ config: { status: 42 } });
    expect(fr.status).toBe(400);
    expect(fr.body.errors.map((e: any) => e.message)).toEqual(['Le statut doit être un code HTTP entre 100 et 599']);
  });

  it('webhook callers keep English errors', async () => {
    const res = await t.app.agent().post('/api/webhooks/none-such').set('X-Locale', 'zh-CN').send({});
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'NOT_FOUND', message: 'No enabled webhook workflow has this key' });
  });
});
