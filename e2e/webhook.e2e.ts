/**
 * End-to-end: the webhook trigger in a real NocoBase 2.2.15 app with its prebuilt admin UI, driven
 * in headless Chromium. Run by `npm run e2e` (e2e/run.sh), which sets the app up and starts it;
 * E2E_BASE_URL says where it listens. Screenshots of each step go to e2e/screenshots/.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encrypt as wecomEncrypt, getSignature as wecomSignature } from '@wecom/crypto';
import type { Browser, Locator, Page } from 'playwright-core';
import { launch, SCREENSHOTS, shot } from './browser';

const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:13000').replace(/\/$/, '');
const EMAIL = process.env.INIT_ROOT_EMAIL ?? 'admin@nocobase.com';
const PASSWORD = process.env.INIT_ROOT_PASSWORD ?? 'admin123';
const SECRET = `e2e-${randomUUID()}`;
const RUN = Date.now().toString(36);

let browser: Browser;
let page: Page;
/** The sync GitHub workflow of the first test (its first version) and its URL. */
let syncId = '';
let syncUrl = '';
let token = '';

/** The NocoBase API as the root user (for what the UI needs no clicks for: nodes added by API). */
async function api(path: string, init: { method?: string; body?: unknown } = {}) {
  if (!token) {
    const res = await fetch(`${BASE}/api/auth:signIn`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Authenticator': 'basic' },
      body: JSON.stringify({ account: EMAIL, password: PASSWORD }),
    });
    token = (await res.json()).data.token;
  }
  const res = await fetch(`${BASE}/api/${path}`, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'X-Authenticator': 'basic' },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const json: any = await res.json().catch(() => null);
  assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
  return json?.data;
}

/** A local HTTP server the workflows' Request nodes call: slow answers, and a log of the calls. */
const calls: string[] = [];
let sideServer: Server;
let sideUrl = '';

const github = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

async function send(url: string, body: string, signature: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'issues',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': signature,
      'User-Agent': 'GitHub-Hookshot/e2e',
    },
    body,
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

/** The drawer on top (NocoBase stacks drawers). */
const topDrawer = () => page.locator('.ant-drawer-content-wrapper:visible').last();

/** A form item of the top drawer by its label. */
const formItem = (label: string) =>
  topDrawer()
    .locator('.ant-formily-item')
    .filter({ has: page.locator('.ant-formily-item-label', { hasText: new RegExp(`^\\s*\\*?\\s*${label}\\s*:?\\s*$`) }) })
    .first();

async function selectOption(select: Locator, option: string) {
  await select.locator('.ant-select-selector').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: option }).first().click();
}

async function signIn() {
  await page.goto(`${BASE}/signin`);
  await page.locator('input[placeholder*="mail" i], input[placeholder*="Username" i]').first().fill(EMAIL);
  await page.locator('input[type=password]').fill(PASSWORD);
  await shot(page, 'signin');
  await page.locator('button[type=submit]').click();
  await page.waitForURL(/\/admin/, { timeout: 60_000 });
}

/** Creates a webhook workflow from the workflow list and opens its canvas. Returns its id. */
async function createWorkflow(title: string, sync: boolean): Promise<string> {
  await page.goto(`${BASE}/admin/settings/workflow`);
  await page.getByRole('button', { name: 'Add new' }).click();
  const drawer = topDrawer();
  await drawer.locator('.ant-formily-item', { hasText: 'Name' }).locator('input').first().fill(title);
  const triggerType = drawer.locator('.ant-formily-item', { hasText: 'Trigger type' });
  await triggerType.locator('.ant-select-selector').click();
  // fill() sets the search at once (keys typed with no delay can land out of order).
  await triggerType.locator('input.ant-select-selection-search-input').fill('Webhook');
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: 'Webhook' }).first().click();
  await drawer.getByText(sync ? 'Synchronously' : 'Asynchronously', { exact: true }).click();
  await shot(page, `${sync ? 'sync' : 'async'}-create-workflow`);
  await drawer.getByRole('button', { name: 'Submit' }).click();
  const row = page.locator('.ant-table-row', { hasText: title }).first();
  await row.waitFor();
  await row.getByText('Configure').click();
  await page.waitForURL(/workflows\/\d+/);
  await page.getByText('End', { exact: true }).waitFor();
  const id = /workflows\/(\d+)/.exec(page.url())![1];
  return id;
}

async function openTrigger() {
  await page.locator('.ant-tag', { hasText: /^Webhook$/ }).first().click();
  await topDrawer().getByTestId('webhook-url').waitFor();
}

async function scrollDrawerTo(locator: Locator) {
  await locator.scrollIntoViewIfNeeded();
  await page.waitForTimeout(200);
}

async function submitDrawer() {
  const drawer = topDrawer();
  await drawer.getByRole('button', { name: 'Submit' }).click();
  try {
    await drawer.waitFor({ state: 'hidden', timeout: 15_000 });
  } catch (error) {
    // Say why: the fields in error, and any message shown.
    const errors = await drawer.locator('.ant-formily-item-error').allInnerTexts();
    const notices = await page.locator('.ant-message-notice, .ant-notification-notice').allInnerTexts();
    throw new Error(`the drawer did not close: ${JSON.stringify({ errors, notices })}; ${(error as Error).message}`);
  }
}

/** Configures GitHub verification (and a few other fields) in the open trigger drawer. Returns the webhook URL. */
async function configureGithubTrigger(prefix: string): Promise<string> {
  const drawer = topDrawer();
  const url = (await drawer.getByTestId('webhook-url').locator('code').innerText()).trim();
  assert.match(url, new RegExp(`^${BASE}/api/webhooks/[A-Za-z0-9_-]+$`));
  await shot(page, `${prefix}-trigger-endpoint`, drawer);

  await selectOption(formItem('Who may call'), 'GitHub signature');
  await drawer.getByTestId('verification-help').waitFor();
  await drawer.getByTestId('secret-input-0').fill(SECRET);

  // The IP allow-list checks each entry: a bad one is flagged, then replaced by loopback.
  const ipList = formItem('IP allow-list');
  await ipList.locator('input').fill('not-an-ip');
  await page.keyboard.press('Enter');
  await ipList.locator('.ant-tag-error', { hasText: 'not-an-ip' }).waitFor();
  await scrollDrawerTo(formItem('Secret'));
  await shot(page, `${prefix}-trigger-verification`, drawer);
  await ipList.locator('.ant-tag-error .ant-tag-close-icon').click();
  await ipList.locator('input').fill('127.0.0.1');
  await page.keyboard.press('Enter');
  await ipList.locator('input').fill('::1');
  await page.keyboard.press('Enter');

  await formItem('Idempotency header').locator('input').fill('X-GitHub-Delivery');
  const schema = formItem('Body JSON Schema');
  await schema.getByRole('button', { name: 'Insert example' }).click();
  await scrollDrawerTo(schema);
  await shot(page, `${prefix}-trigger-request`, drawer);
  await scrollDrawerTo(formItem(prefix === 'sync' ? 'Timeout' : 'Answer'));
  await shot(page, `${prefix}-trigger-response`, drawer);
  await submitDrawer();
  return url;
}

async function enableWorkflow(prefix: string) {
  const toggle = page.locator('.ant-switch').first();
  await toggle.click();
  await page.waitForFunction(() => document.querySelector('.ant-switch')?.getAttribute('aria-checked') === 'true');
  await page.waitForTimeout(500);
  await shot(page, `${prefix}-enabled`);
}

/** Opens the deliveries of the workflow from its trigger and waits for `count` rows. */
async function openDeliveries(prefix: string, count: number): Promise<Locator> {
  await openTrigger();
  // The stored secret comes back masked: never in clear, not even in the input's value.
  const secret = topDrawer().getByTestId('secret-input-0');
  assert.equal(await secret.inputValue(), '');
  assert.match((await secret.getAttribute('placeholder')) ?? '', /\*{8}/);
  await scrollDrawerTo(secret);
  await shot(page, `${prefix}-trigger-saved-secret-masked`, topDrawer());
  assert.ok(!(await page.content()).includes(SECRET), 'the secret is nowhere in the page');
  await topDrawer().getByTestId('open-deliveries').click();
  const table = page.getByTestId('deliveries-table');
  for (let i = 0; i < 20; i++) {
    if ((await table.locator('.ant-table-row').count()) >= count) break;
    await page.getByTestId('refresh-deliveries').click();
    await page.waitForTimeout(500);
  }
  assert.equal(await table.locator('.ant-table-row').count(), count);
  await shot(page, `${prefix}-deliveries`);
  return table;
}

async function checkDeliveries(prefix: string, acceptedStatus: number) {
  const table = await openDeliveries(prefix, 2);
  const rows = table.locator('.ant-table-row');
  const forged = rows.filter({ hasText: 'SIGNATURE_INVALID' });
  await forged.waitFor();
  assert.match(await forged.innerText(), /401/);
  const accepted = rows.filter({ hasText: String(acceptedStatus) }).filter({ hasNotText: 'SIGNATURE_INVALID' });
  await accepted.waitFor();

  // The accepted delivery: redacted headers, the body, and its execution.
  await accepted.click();
  const detail = page.getByTestId('delivery-detail').last();
  await detail.getByTestId('delivery-body').waitFor();
  const headers = await detail.getByTestId('delivery-headers').innerText();
  assert.ok(!headers.includes(SECRET), 'the secret never reaches the UI');
  assert.match(headers, /x-hub-signature-256/i);
  assert.match(await detail.getByTestId('delivery-body').innerText(), /"action": "opened"/);
  await shot(page, `${prefix}-delivery-accepted`);
  await detail.locator('.ant-drawer-close').click();
  await detail.waitFor({ state: 'hidden' });

  await forged.click();
  const forgedDetail = page.getByTestId('delivery-detail').last();
  await forgedDetail.getByTestId('delivery-body').waitFor();
  assert.match(await forgedDetail.innerText(), /SIGNATURE_INVALID/);
  await shot(page, `${prefix}-delivery-forged`);
  await forgedDetail.locator('.ant-drawer-close').click();
  await forgedDetail.waitFor({ state: 'hidden' });

  // The execution of the accepted delivery, opened from its detail inside the app (no reload).
  await page.evaluate(() => {
    (window as any).__e2eNoReload = true;
  });
  await accepted.click();
  const again = page.getByTestId('delivery-detail').last();
  const link = again.getByTestId('delivery-execution-link');
  await link.waitFor();
  assert.match((await link.getAttribute('href')) ?? '', /\/admin\/settings\/workflow\/executions\/\d+$/);
  await link.click();
  await page.waitForURL(/\/executions\/\d+/);
  // The execution canvas: the trigger and the run's status.
  await page.locator('.ant-tag', { hasText: /^Webhook$/ }).first().waitFor({ timeout: 30_000 });
  assert.equal(await page.evaluate(() => (window as any).__e2eNoReload), true, 'router navigation, not a reload');
  await closeAllDrawers();
  await page.waitForTimeout(500);
  await shot(page, `${prefix}-execution`);
}

/** Closes every open drawer and modal (Escape on each). */
async function closeAllDrawers() {
  for (let i = 0; i < 6; i++) {
    if ((await page.locator('.ant-drawer-content-wrapper:visible, .ant-modal-wrap:visible').count()) === 0) return;
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
  }
}

/** Runs a test body; on failure, the page at that moment is saved as a screenshot too. */
const withFailureShot = (name: string, body: () => Promise<void>) => async () => {
  try {
    await body();
  } catch (error) {
    await shot(page, `FAILED-${name}`).catch(() => {});
    throw error;
  }
};

describe('webhook trigger in the NocoBase admin UI', () => {
  before(async () => {
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    sideServer = createServer((req, res) => {
      calls.push(req.url ?? '');
      const wait = req.url?.startsWith('/slow') ? 2500 : 0;
      setTimeout(() => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ ok: true, url: req.url }));
      }, wait);
    });
    await new Promise<void>((resolve) => sideServer.listen(0, '127.0.0.1', resolve));
    sideUrl = `http://127.0.0.1:${(sideServer.address() as any).port}`;
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(30_000);
    await signIn();
  });

  after(async () => {
    sideServer?.close();
    await browser?.close();
  });

  it('sync: GitHub-verified webhook answered by a Webhook response node', withFailureShot('sync', async () => {
    syncId = await createWorkflow(`GitHub sync ${RUN}`, true);
    await shot(page, 'sync-canvas');
    await openTrigger();
    const url = await configureGithubTrigger('sync');
    syncUrl = url;

    // The Webhook response node: offered in a sync webhook workflow.
    await page.getByRole('button', { name: 'add-button' }).first().click();
    const item = topDrawer().getByText('Webhook response', { exact: true });
    await item.waitFor();
    await shot(page, 'sync-add-node');
    await item.click();
    const node = page.locator('.ant-tag', { hasText: /^Webhook response$/ }).first();
    await node.waitFor();
    await node.click();
    const drawer = topDrawer();
    await drawer.getByText('Status', { exact: true }).waitFor();
    const status = formItem('Status');
    await status.locator('input').first().fill('201');
    await formItem('Response headers').getByRole('button', { name: 'Add header' }).click();
    await formItem('Response headers').locator('input').first().fill('X-Handled-By');
    // fill() sets the whole value at once: keys typed with no delay can land before the editor's
    // caret is restored after its first re-render (seen once in CI as 'cobaseno').
    const headerValue = formItem('Response headers').locator('[contenteditable], textarea').first();
    await headerValue.fill('nocobase');
    const typed = await headerValue.evaluate((el) => ('value' in el ? String(el.value) : el.textContent) ?? '');
    assert.equal(typed.trim(), 'nocobase');
    const body = formItem('Response body').locator('textarea, [contenteditable]').first();
    await body.click();
    await body.fill('{"ok": true, "action": "{{$context.data.action}}", "method": "{{$context.method}}"}');
    await shot(page, 'sync-response-node', drawer);
    // The variable picker offers $context of the webhook, with the body schema's properties.
    await formItem('Response body').getByRole('button', { name: 'variable-button' }).click();
    await page.locator('.ant-cascader-menu-item', { hasText: 'Trigger variables' }).first().click();
    const menus = page.locator('.ant-cascader-menu');
    for (const label of ['Body', 'Headers', 'Query parameters', 'Path parameters', 'Method', 'Client IP']) {
      await menus.nth(1).locator('.ant-cascader-menu-item', { hasText: label }).first().waitFor();
    }
    await menus.nth(1).locator('.ant-cascader-menu-item', { hasText: /^Body$/ }).click();
    await menus.nth(2).locator('.ant-cascader-menu-item', { hasText: 'Action (action)' }).waitFor();
    await shot(page, 'sync-variables');
    await page.keyboard.press('Escape');
    await submitDrawer();

    await enableWorkflow('sync');

    const payload = JSON.stringify({ action: 'opened', repository: { full_name: 'octo/hello' } });
    const ok = await send(url, payload, github(SECRET, payload));
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.headers.get('x-handled-by'), 'nocobase');
    assert.deepEqual(ok.json, { ok: true, action: 'opened', method: 'POST' });

    const forged = await send(url, payload, github('not-the-secret', payload));
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.json?.error?.code, 'SIGNATURE_INVALID');

    await checkDeliveries('sync', 201);
  }));

  it('async: GitHub-verified webhook answered 202 and run in the background', withFailureShot('async', async () => {
    await createWorkflow(`GitHub async ${RUN}`, false);
    await shot(page, 'async-canvas');
    // No Webhook response node in an async workflow.
    await page.getByRole('button', { name: 'add-button' }).first().click();
    const item = topDrawer().getByText('Webhook response', { exact: true });
    await item.waitFor();
    const disabled = await item.evaluate((el) => !!el.closest('[aria-disabled="true"], .ant-menu-item-disabled, [disabled]'));
    await shot(page, 'async-add-node');
    assert.ok(disabled, 'Webhook response is not offered in an async workflow');
    await topDrawer().locator('.ant-drawer-close').click();
    await page.locator('.ant-drawer-content-wrapper:visible').first().waitFor({ state: 'hidden' });

    await openTrigger();
    const url = await configureGithubTrigger('async');
    await enableWorkflow('async');

    const payload = JSON.stringify({ action: 'opened', repository: { full_name: 'octo/async' } });
    const ok = await send(url, payload, github(SECRET, payload));
    assert.equal(ok.status, 202, ok.text);
    assert.ok(typeof ok.json?.deliveryId === 'string', ok.text);

    const forged = await send(url, payload, github('not-the-secret', payload));
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.json?.error?.code, 'SIGNATURE_INVALID');

    await checkDeliveries('async', 202);
  }));

  it('operator: the delivery log from the list, an execution and the canvas; replay', withFailureShot('operator', async () => {
    assert.ok(syncId, 'the sync test ran first');
    // The workflow list: a row action on the webhook workflow (its version has executed).
    await page.goto(`${BASE}/admin/settings/workflow`);
    const rowAction = page.getByTestId(`deliveries-row-${syncId}`);
    await rowAction.waitFor();
    await shot(page, 'list-row-action');
    await rowAction.click();
    const drawer = page.getByTestId('deliveries-drawer').last();
    await drawer.locator('.ant-table-row').first().waitFor();
    await shot(page, 'list-deliveries');
    await drawer.getByText('Rejected', { exact: true }).click();
    await drawer.locator('.ant-table-row', { hasText: 'SIGNATURE_INVALID' }).first().waitFor();
    await page.waitForTimeout(500);
    assert.equal(await drawer.locator('.ant-table-row').filter({ hasNotText: 'SIGNATURE_INVALID' }).count(), 0);
    await shot(page, 'list-deliveries-rejected');
    await closeAllDrawers();

    // An execution: the delivery that started it.
    const executions = await api(
      `executions:list?filter=${encodeURIComponent(JSON.stringify({ workflowId: Number(syncId) }))}&sort=-id`,
    );
    const executionId = executions[0].id;
    await page.goto(`${BASE}/admin/settings/workflow/executions/${executionId}`);
    await page.getByTestId('deliveries-execution').click();
    const detail = page.getByTestId('delivery-detail').last();
    await detail.getByTestId('delivery-answer').waitFor();
    assert.match(await detail.innerText(), new RegExp(`#${executionId}`));
    await shot(page, 'execution-delivery');
    await closeAllDrawers();

    // The canvas header of the executed (read-only) version: replay, after a confirmation.
    await page.goto(`${BASE}/admin/settings/workflow/workflows/${syncId}`);
    await page.getByTestId('deliveries-canvas').click();
    const table = page.getByTestId('deliveries-drawer').last().getByTestId('deliveries-table');
    await table.locator('.ant-table-row', { hasText: '201' }).first().click();
    const d = page.getByTestId('delivery-detail').last();
    await d.getByTestId('delivery-answer').waitFor();
    await shot(page, 'delivery-detail-response');
    await d.getByTestId('replay-delivery').click();
    await page.locator('.ant-modal-content:visible', { hasText: /side effects/ }).waitFor();
    await shot(page, 'replay-confirm');
    await page.getByTestId('confirm-replay').click();
    // The replay's own detail opens: a replay of the original.
    await page.getByTestId('replay-of-link').last().waitFor();
    await shot(page, 'replayed');
    await closeAllDrawers();
  }));

  it('draft version: capture a sample, pick its field, continue, a signed test request', withFailureShot('draft', async () => {
    const live = await api(`workflows:get?filterByTk=${syncId}`);
    const draft = await api(`workflows:revision?filterByTk=${syncId}&filter[key]=${live.key}`, { body: {} });
    await page.goto(`${BASE}/admin/settings/workflow/workflows/${draft.id}`);
    await page.getByText('End', { exact: true }).waitFor();
    await openTrigger();

    // Listen for a request: a real one arrives at the (live) URL and becomes the draft's sample.
    await topDrawer().getByTestId('listen-for-sample').click();
    await page.getByTestId('listening-timer').waitFor();
    await page.waitForTimeout(1200);
    await shot(page, 'listening');
    const payload = JSON.stringify({ action: 'labeled', issue: { number: 7, title: 'Hello sample' } });
    const real = await send(syncUrl, payload, github(SECRET, payload));
    assert.equal(real.status, 201, real.text);
    await page.getByTestId('listening-timer').waitFor({ state: 'hidden', timeout: 30_000 });
    const stored = await api(`workflows:get?filterByTk=${draft.id}`);
    assert.equal(stored.config.sample?.data?.issue?.title, 'Hello sample');
    assert.equal(stored.config.sample?.headers?.['x-hub-signature-256'], '[redacted]');
    await closeAllDrawers();

    // The sample's fields in a node's variable picker, with their example values.
    await page.reload();
    const node = page.locator('.ant-tag', { hasText: /^Webhook response$/ }).first();
    await node.waitFor();
    await node.click();
    const body = formItem('Response body').locator('textarea, [contenteditable]').first();
    await body.fill('');
    await formItem('Response body').getByRole('button', { name: 'variable-button' }).click();
    await page.locator('.ant-cascader-menu-item', { hasText: 'Trigger variables' }).first().click();
    const menus = page.locator('.ant-cascader-menu');
    await menus.nth(1).locator('.ant-cascader-menu-item', { hasText: /^Body$/ }).click();
    await menus.nth(2).locator('.ant-cascader-menu-item', { hasText: /^issue$/ }).click();
    const title = menus.nth(3).locator('.ant-cascader-menu-item', { hasText: 'Hello sample' });
    await title.waitFor();
    await shot(page, 'sample-variables');
    await title.click();
    const picked = (await body.evaluate((el) => ('value' in el ? String(el.value) : el.textContent) ?? '')).trim();
    assert.equal(picked, '{{$context.data.issue.title}}');
    // The body is JSON: the picked variable goes inside a string.
    await body.fill(`{"title": "${picked}"}`);
    // Answer at once, and go on with the next node: the help says what the setting does.
    const after = formItem('After answering');
    assert.match(await after.innerText(), /the run ends here/);
    await after.locator('input[type=checkbox]').check();
    await after.getByText(/the run goes on with the next nodes/).waitFor();
    assert.doesNotMatch(await after.innerText(), /the run ends here/);
    assert.doesNotMatch(await topDrawer().locator('.ant-drawer-body').innerText(), /and ends the run/);
    await shot(page, 'response-continue', topDrawer());
    await submitDrawer();

    // A node after the answer (added through the API): it calls the local server.
    const full = await api(`workflows:get?filterByTk=${draft.id}&appends[]=nodes`);
    const response = full.nodes.find((n: any) => n.type === 'webhook-response');
    await api(`workflows/${draft.id}/nodes:create`, {
      body: {
        type: 'request',
        title: 'After the answer',
        upstreamId: response.id,
        branchIndex: null,
        config: { url: `${sideUrl}/after`, method: 'POST', timeout: 5000, contentType: 'application/json', data: {} },
      },
    });
    await page.reload();
    await page.locator('.ant-tag', { hasText: /^Webhook response$/ }).first().waitFor();
    await page.getByText('After the answer').first().waitFor();
    await shot(page, 'continue-canvas');

    // A test request to the disabled draft, signed by the server, with the captured sample as body.
    await openTrigger();
    await topDrawer().getByTestId('open-test-request').click();
    const modal = page.locator('.ant-modal-content:visible', { hasText: 'Send a test request' });
    await modal.getByText('Captured sample', { exact: true }).click();
    assert.match(await modal.getByTestId('test-request-body').inputValue(), /Hello sample/);
    await modal.getByTestId('send-test-request').click();
    const answer = modal.getByTestId('test-answer');
    await answer.waitFor();
    assert.match(await answer.innerText(), /201/);
    assert.match(await answer.innerText(), /"title": "Hello sample"/);
    await shot(page, 'test-request-answer');
    const rows = await api(
      `webhookDeliveries:list?filter=${encodeURIComponent(JSON.stringify({ workflowId: Number(draft.id), test: true }))}`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 201);
    for (let i = 0; i < 40 && !calls.includes('/after'); i++) await page.waitForTimeout(250);
    assert.ok(calls.includes('/after'), 'the node after the answer ran');
    await modal.locator('.ant-modal-footer button', { hasText: 'Close' }).click();

    // Replay a real delivery of the live version through this draft (the choice is offered here).
    await topDrawer().getByTestId('open-deliveries').click();
    const list = page.getByTestId('deliveries-drawer').last();
    await list.getByText('Accepted', { exact: true }).click();
    await list.locator('.ant-table-row', { hasNotText: 'Test' }).filter({ hasText: '201' }).first().click();
    const detail = page.getByTestId('delivery-detail').last();
    await detail.getByTestId('replay-delivery').click();
    await page.getByTestId('replay-against-version').click();
    await shot(page, 'replay-against-draft');
    await page.getByTestId('confirm-replay').click();
    await page.getByTestId('replay-of-link').last().waitFor();
    assert.match(await page.getByTestId('delivery-detail').last().innerText(), new RegExp(`#${draft.id}`));
    await closeAllDrawers();
  }));

  it('answer modes: onTimeout accept with its status URL, and a filtered GitHub event', withFailureShot('modes', async () => {
    const id = await createWorkflow(`Slow ${RUN}`, true);
    await openTrigger();
    const url = (await topDrawer().getByTestId('webhook-url').locator('code').innerText()).trim();
    await formItem('Filter').getByTestId('json-editor').fill('{"$and": [{"headers.x-github-event": {"$eq": "push"}}]}');
    // A wrong value far down the form: the submit scrolls to it and focuses it.
    await formItem('Timeout').locator('input').fill('0');
    await topDrawer().locator('.ant-drawer-body').evaluate((el) => el.scrollTo(0, 0));
    await topDrawer().getByRole('button', { name: 'Submit' }).click();
    await page.waitForFunction(() => !!document.activeElement?.closest('.ant-formily-item-error'));
    await shot(page, 'modes-first-error-focused', topDrawer());
    await formItem('Timeout').locator('input').fill('1000');
    await selectOption(formItem('When the timeout is reached'), 'Answer 202 with a status URL');
    await scrollDrawerTo(formItem('When the timeout is reached'));
    await shot(page, 'modes-trigger', topDrawer());
    await submitDrawer();
    await api(`workflows/${id}/nodes:create`, {
      body: { type: 'request', title: 'Slow call', upstreamId: null, branchIndex: null, config: { url: `${sideUrl}/slow`, method: 'GET', timeout: 10000 } },
    });
    await page.reload();
    await page.getByText('Slow call').first().waitFor();
    await enableWorkflow('modes');

    const post = (event: string) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': event }, body: '{"ref":"main"}' });
    const accepted = await post('push');
    const receipt: any = await accepted.json();
    assert.equal(accepted.status, 202, JSON.stringify(receipt));
    assert.match(receipt.statusUrl, /\/api\/webhooks\/~status\/[A-Za-z0-9_-]{24}$/);
    let status: any = null;
    for (let i = 0; i < 40; i++) {
      status = await (await fetch(receipt.statusUrl)).json();
      if (status.status === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status.status, 'succeeded', JSON.stringify(status));
    const filtered = await post('issues');
    assert.equal(filtered.status, 200);
    assert.equal(((await filtered.json()) as any).filtered, true);

    await openTrigger();
    await topDrawer().getByTestId('open-deliveries').click();
    const drawer = page.getByTestId('deliveries-drawer').last();
    await selectOption(drawer.locator('.ant-select', { hasText: 'Error code' }), 'FILTERED');
    await drawer.locator('.ant-table-row', { hasText: 'FILTERED' }).first().waitFor();
    await drawer.locator('.ant-table-row', { hasText: 'FILTERED' }).first().click();
    await page.getByTestId('delivery-detail').last().getByTestId('delivery-answer').waitFor();
    await shot(page, 'modes-filtered-delivery');
    await closeAllDrawers();
  }));

  it('handshakes: a WeCom and a Slack webhook configured in the UI pass their URL checks', withFailureShot('handshake', async () => {
    // WeCom (企业微信): token, EncodingAESKey and CorpID typed in the form; an async workflow.
    const wecomId = await createWorkflow(`WeCom ${RUN}`, false);
    await openTrigger();
    let drawer = topDrawer();
    const wecomUrl = (await drawer.getByTestId('webhook-url').locator('code').innerText()).trim();
    const wecom = {
      token: `tok${randomUUID().slice(0, 8)}`,
      // 43 letters and digits, as WeCom generates it.
      encodingAESKey: randomBytes(32).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 43),
      corpId: 'ww0123456789abcdef',
    };
    await selectOption(formItem('Who may call'), 'WeCom');
    await drawer.getByTestId('verification-help').waitFor();
    await formItem('Token').getByTestId('secret-input-0').fill(wecom.token);
    await formItem('EncodingAESKey').getByTestId('secret-input-0').fill(wecom.encodingAESKey);
    await formItem('Receiver ID \\(CorpID\\)').locator('input').fill(wecom.corpId);
    await scrollDrawerTo(formItem('Receiver ID \\(CorpID\\)'));
    await shot(page, 'handshake-wecom-trigger', drawer);
    await submitDrawer();
    await enableWorkflow('handshake-wecom');

    // WeCom's URL check, built with WeCom's own library: echostr encrypted for the CorpID, signed.
    const echo = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const echostr = wecomEncrypt(wecom.encodingAESKey, echo, wecom.corpId);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomUUID().slice(0, 10);
    const signature = wecomSignature(wecom.token, timestamp, nonce, echostr);
    const query = `msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&echostr=${encodeURIComponent(echostr)}`;
    const check = await fetch(`${wecomUrl}?${query}`);
    assert.equal(check.status, 200);
    assert.match(check.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await check.text(), echo);

    // Slack: a sync workflow; the signing secret left empty first (each message on its own line,
    // the first error focused), then typed.
    const slackId = await createWorkflow(`Slack ${RUN}`, true);
    await openTrigger();
    drawer = topDrawer();
    const slackUrl = (await drawer.getByTestId('webhook-url').locator('code').innerText()).trim();
    await selectOption(formItem('Who may call'), 'Slack signature');
    await drawer.getByTestId('verification-help').waitFor();
    await drawer.locator('.ant-drawer-body').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await drawer.getByRole('button', { name: 'Submit' }).click();
    const secretItem = formItem('Secret');
    await page.waitForFunction(() => !!document.activeElement?.closest('.ant-formily-item-error'));
    assert.ok(
      await secretItem.evaluate((el) => el.contains(document.activeElement)),
      'the first error (the empty secret) is focused',
    );
    const help = secretItem.locator('.ant-formily-item-help').first();
    const lines = (await help.innerText()).split('\n').filter((l) => l.trim());
    assert.ok(lines.length >= 2, `one message a line: ${JSON.stringify(lines)}`);
    assert.ok(!lines.some((l) => /\S, \S/.test(l) && /required/i.test(l)), `no messages run together: ${lines}`);
    await shot(page, 'handshake-slack-errors', drawer);
    const slackSecret = `slack-${randomUUID()}`;
    await secretItem.getByTestId('secret-input-0').fill(slackSecret);
    // The messages go once the secret is typed.
    for (let i = 0; i < 30 && (await help.count()) && (await help.innerText()).trim(); i++) await page.waitForTimeout(100);
    await shot(page, 'handshake-slack-trigger', drawer);
    // Known glitch, not fixed yet: after a failed submit, the first click on Submit is often lost
    // (seen with main's FirstErrorFocus too, so not the one-message-a-line merge); the second one
    // saves. This test is not about it: click again if the drawer is still open.
    await drawer.getByRole('button', { name: 'Submit' }).click();
    await drawer.waitFor({ state: 'hidden', timeout: 3_000 }).catch(() => {});
    if (await drawer.isVisible()) await submitDrawer();
    await enableWorkflow('handshake-slack');

    // Slack's signed url_verification (v0 scheme: HMAC-SHA256 of v0:{timestamp}:{body}, as Slack documents).
    const challenge = `challenge-${randomUUID()}`;
    const body = JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' });
    const ts = String(Math.floor(Date.now() / 1000));
    const slackSignature = `v0=${createHmac('sha256', slackSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
    const verify = await fetch(slackUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        'X-Slack-Request-Timestamp': ts,
        'X-Slack-Signature': slackSignature,
      },
      body,
    });
    assert.equal(verify.status, 200);
    assert.deepEqual(await verify.json(), { challenge });

    // Neither started an execution; each delivery is shown as a handshake.
    for (const [id, name] of [
      [wecomId, 'wecom'],
      [slackId, 'slack'],
    ] as const) {
      const executions = await api(
        `executions:list?filter=${encodeURIComponent(JSON.stringify({ workflowId: Number(id) }))}`,
      );
      assert.equal(executions.length, 0, `${name}: no execution`);
      await page.goto(`${BASE}/admin/settings/workflow/workflows/${id}`);
      await page.getByTestId('deliveries-canvas').click();
      const list = page.getByTestId('deliveries-drawer').last();
      const row = list.locator('.ant-table-row').first();
      await row.waitFor();
      assert.equal(await list.locator('.ant-table-row').count(), 1);
      await row.getByTestId('delivery-handshake').waitFor();
      assert.match(await row.innerText(), /200/);
      await shot(page, `handshake-${name}-deliveries`);
      await row.click();
      const detail = page.getByTestId('delivery-detail').last();
      await detail.getByTestId('delivery-handshake').waitFor();
      await detail.getByTestId('delivery-answer').waitFor();
      assert.match(await detail.getByTestId('delivery-answer').innerText(), name === 'wecom' ? new RegExp(echo) : new RegExp(challenge));
      await shot(page, `handshake-${name}-delivery`);
      await closeAllDrawers();
    }
  }));

  // The admin's language, end to end: zh-CN (CJK fonts from setup-app.sh) and fr-FR.
  const tours = [
    { lang: 'zh-CN', prefix: 'zh', body: '响应体', headers: /响应头/, request: /请求头|请求体/ },
    { lang: 'fr-FR', prefix: 'fr', body: 'Corps de la réponse', headers: /En-têtes de la réponse/, request: /de la requête/ },
  ];
  for (const tour of tours) {
    it(`${tour.lang}: the trigger form and the deliveries leave no English text`, withFailureShot(tour.prefix, async () => {
      const read = (lang: string) =>
        JSON.parse(readFileSync(path.resolve(__dirname, '..', 'src', 'locale', `${lang}.json`), 'utf8')) as Record<string, string>;
      const en = read('en-US');
      const local = read(tour.lang);
      // English texts of this plugin that the language translates: none may remain in the rendered UI.
      const english = Object.keys(en).filter((k) => local[k] !== en[k] && /[a-z]{3}/.test(en[k]) && en[k].includes(' '));
      const leftovers = (text: string) => english.filter((k) => text.includes(en[k]));
      // The admin's language: enabled in the system settings, chosen by the user.
      await api('systemSettings:update?filterByTk=1', { body: { enabledLanguages: ['en-US', 'zh-CN', 'fr-FR'] } });
      await api('users:updateLang', { body: { appLang: tour.lang } });
      await page.evaluate((lang) => localStorage.setItem('NOCOBASE_LOCALE', lang), tour.lang);
      try {
        await page.goto(`${BASE}/admin/settings/workflow/workflows/${syncId}`);
        await openTrigger();
        const form = topDrawer();
        await page.waitForTimeout(800);
        assert.deepEqual(leftovers(await form.innerText()), []);
        await shot(page, `${tour.prefix}-trigger`, form);
        await form.getByTestId('open-deliveries').click();
        const drawer = page.getByTestId('deliveries-drawer').last();
        await drawer.locator('.ant-table-row').first().waitFor();
        assert.deepEqual(leftovers(await drawer.innerText()), []);
        await shot(page, `${tour.prefix}-deliveries`);
        await drawer.locator('.ant-table-row').first().click();
        const detail = page.getByTestId('delivery-detail').last();
        await detail.getByTestId('delivery-body').waitFor();
        assert.deepEqual(leftovers(await detail.innerText()), []);
        await shot(page, `${tour.prefix}-delivery-detail`);
        await closeAllDrawers();
        // The response node: its headers and body are the response's (not the request's).
        await page.goto(`${BASE}/admin/settings/workflow/workflows/${syncId}`);
        await page.locator('.ant-tag', { hasText: /Webhook/i }).nth(1).click();
        const node = topDrawer();
        await node.getByText(tour.body).first().waitFor();
        // The body of the drawer: its title is the node's own title (data, typed in English).
        const text = await node.locator('.ant-drawer-body').innerText();
        assert.match(text, tour.headers);
        assert.doesNotMatch(text, tour.request);
        assert.deepEqual(leftovers(text), []);
        await shot(page, `${tour.prefix}-response-node`, node);
        await closeAllDrawers();
      } finally {
        await api('users:updateLang', { body: { appLang: 'en-US' } });
        await page.evaluate(() => localStorage.setItem('NOCOBASE_LOCALE', 'en-US'));
      }
    }));
  }
});
