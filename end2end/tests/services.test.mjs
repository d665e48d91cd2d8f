// Services in the dashboard, in real Chromium: an Admin creates a service through the form (a
// refused name shows its message under the name input first), finds it in the list, opens it,
// deploys and sees the deployment appear as "queued" without a reload (pushed over the service's
// WebSocket; the instance never comes online here, so it stays queued), then cancels it and sees
// "cancelled" with the reason; then changes a setting; then switches its deploy hook on (the
// secret shown once), has a signed push deploy through it, and switches it off.
import { createHmac } from 'node:crypto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startBase, startBrowser, hydrated, gotoHydrated, shot, signUpFirst, expectError, addInstance,
} from './harness.mjs';

let base;
let chrome;
let page;

before(async () => {
  base = await startBase();
  chrome = await startBrowser();
  page = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
});

test('an admin with an instance opens the empty Services page', async () => {
  await signUpFirst(page, base.url);
  await addInstance(page, 'web-1');

  await page.click('.sidebar >> text=Services');
  await page.waitForURL(/\/services$/);
  await page.waitForSelector('text=No services yet');
  await shot(page, '11-services-empty');
});

test('the create form shows a refused name under the name input, then creates the service', async () => {
  await page.click('#new-service');
  await page.waitForURL(/\/services\/new$/);
  await hydrated(page);
  assert.match(await page.inputValue('#svc-instance'), /^ins_/, 'the only instance is chosen');
  await page.fill('#svc-name', 'My API');
  await page.fill('#svc-git-url', 'https://example.com/api.git');
  await page.fill('#svc-env', 'NODE_ENV=production');
  await page.selectOption('#svc-runtime', 'node');
  expectError(/status of 400/);
  await page.click('#new-service-form button[type=submit]');
  const nameError = page.locator('#svc-name-error');
  await nameError.waitFor();
  assert.match(await nameError.innerText(), /lowercase letters, digits and hyphens/);
  assert.equal(await page.getAttribute('#svc-name', 'aria-invalid'), 'true');
  // Next to its input: in the same field, and no other field shows an error.
  assert.equal(await page.locator('.field:has(#svc-name) #svc-name-error').count(), 1);
  assert.equal(await page.locator('.field-error').count(), 1);
  await shot(page, '12-service-form-error');

  await page.fill('#svc-name', 'api');
  await page.click('#new-service-form button[type=submit]');
  await page.waitForURL(/\/services\/svc_[0-9a-z]+$/);
  await page.waitForSelector('#service-name >> text=api');
});

test('the list shows the service; its page opens from there', async () => {
  await page.click('.sidebar >> text=Services');
  await page.waitForURL(/\/services$/);
  const row = page.locator('tr[data-service]');
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /api/);
  assert.match(text, /web-1/);
  assert.match(text, /node/);
  assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'new');
  await shot(page, '13-services-list');
  await row.locator('a').click();
  await page.waitForURL(/\/services\/svc_[0-9a-z]+$/);
  await hydrated(page);
  // A client-side navigation: the page's data arrives after the route has rendered.
  await page.locator('text=Not deployed yet.').waitFor();
  assert.equal(await page.inputValue('#svc-env'), 'NODE_ENV=production\n');
});

test('Deploy queues a deployment that appears live, and Cancel ends it', async () => {
  // A marker that a reload would wipe.
  await page.evaluate(() => { window.__noReload = true; });
  await page.click('#deploy-form button[type=submit]');
  const queued = page.locator('.deployment[data-state="queued"]');
  await queued.waitFor({ timeout: 15000 });
  assert.match(await queued.innerText(), /default branch/);
  assert.equal(await page.locator('[data-status="deploying"]').count(), 1);
  await shot(page, '14-deployment-queued');

  await queued.locator('.deployment-cancel').click();
  const cancelled = page.locator('.deployment[data-state="cancelled"]');
  await cancelled.waitFor({ timeout: 15000 });
  assert.match(await cancelled.innerText(), /cancelled by ana@example\.com/);
  assert.equal(await cancelled.locator('.step').count(), 2, 'queued, then cancelled');
  assert.equal(await cancelled.locator('.deployment-cancel').count(), 0);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'no reload happened');
  await shot(page, '15-deployment-cancelled');
});

test('Settings refuse a bad domain under its input, then save and keep what was not changed', async () => {
  const form = page.locator('#service-settings-form');
  await page.fill('#svc-domains', 'Bad_Domain');
  expectError(/status of 400/);
  await form.locator('button[type=submit]').click();
  await page.locator('#svc-domains-error').waitFor();
  assert.match(await page.innerText('#svc-domains-error'), /not a valid domain/);
  await page.fill('#svc-domains', 'api.example.com');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('text=Saved.');
  // Read back from the server: away to the list and in again (client-side navigation).
  await page.click('.sidebar >> text=Services');
  await page.waitForURL(/\/services$/);
  await page.locator('tr[data-service] a').click();
  await page.waitForURL(/\/services\/svc_[0-9a-z]+$/);
  await page.locator('.deployment[data-state="cancelled"]').waitFor();
  assert.equal(await page.inputValue('#svc-domains'), 'api.example.com');
  assert.equal(await page.inputValue('#svc-env'), 'NODE_ENV=production\n');
  assert.equal(await page.inputValue('#svc-runtime'), 'node');
});

test('Deploy hooks: the secret is shown once, a signed push deploys, Disable switches it off', async () => {
  const status = page.locator('#hooks-status');
  await status.waitFor();
  assert.equal(await status.getAttribute('data-enabled'), 'false');
  await page.click('#hooks-form button[type=submit]');
  await page.locator('#hooks-created').waitFor();
  const secret = await page.inputValue('#hooks-secret');
  const hookUrl = await page.inputValue('#hooks-url');
  assert.match(secret, /^whsec_/);
  assert.match(hookUrl, /\/hooks\/github\/svc_[0-9a-z]+$/);
  await shot(page, '16-deploy-hook-created');

  // GitHub's delivery: the raw body signed with the secret.
  const body = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) });
  const signature = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  const deliver = (sig) => fetch(hookUrl, {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': `d-${sig.length}`, 'X-Hub-Signature-256': sig },
  });
  assert.equal((await deliver('sha256=' + '0'.repeat(64))).status, 401);
  assert.equal((await deliver(signature)).status, 202);
  await page.locator('.deployment[data-state="queued"]').waitFor({ timeout: 15000 });

  // Read again from the server: the secret is not there any more; the delivery is.
  await gotoHydrated(page, page.url());
  await status.waitFor();
  assert.equal(await status.getAttribute('data-enabled'), 'true');
  assert.match(await status.innerText(), /deployed from github/);
  assert.equal(await page.locator('#hooks-secret').count(), 0, 'the secret is shown once');
  assert.ok(!(await page.content()).includes(secret));

  page.once('dialog', (d) => d.accept());
  await page.click('#hooks-disable');
  await page.locator('#hooks-status[data-enabled="false"]').waitFor();
  assert.equal((await deliver(signature)).status, 401, 'off: deliveries are refused');
});
