// Teams in the browser: an Owner invites a Member by link; the Member signs up through it (with
// sign-up closed), deploys, and gets no management controls on Members; a Guest sees deployment
// states but no logs and no deploy button, and is refused the Members page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBase, startBrowser, gotoHydrated, hydrated, shot, signUpFirst } from './harness.mjs';

let base;
let chrome;
let owner;
let cluster;
let serviceUrl;

before(async () => {
  base = await startBase();
  chrome = await startBrowser();
  owner = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
});

/** The Owner creates an invitation for `email` with `role` on the Members page; returns the link. */
async function invite(email, role) {
  await gotoHydrated(owner, `${base.url}/c/${cluster}/members`);
  await owner.locator('#invite-form').first().waitFor({ timeout: 15000 });
  await owner.fill('#invite-email', email);
  await owner.selectOption('#invite-role', role);
  await owner.click('#invite-form button[type=submit]');
  const link = owner.locator('#invite-link');
  await link.waitFor({ timeout: 15000 });
  return link.inputValue();
}

/** A fresh browser (no session) opens `link` and signs up through it. */
async function signUpThrough(link, name) {
  const page = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await gotoHydrated(page, link);
  await page.locator('#invite-signup-form').first().waitFor({ timeout: 15000 });
  await page.fill('#invite-signup-name', name);
  await page.fill('#invite-signup-password', 'correct horse battery');
  await page.click('#invite-signup-form button[type=submit]');
  await page.waitForURL(new RegExp(`/c/${cluster}$`), { timeout: 15000 });
  return page;
}

test('an Owner invites a Member by link; the Member signs up through it and deploys', async () => {
  await signUpFirst(owner, base.url);
  cluster = owner.url().match(/cl_[0-9a-z]+/)[0];
  const headers = { Origin: base.url };
  const inst = await owner.request.post(`${base.url}/api/v1/clusters/${cluster}/instances`,
    { headers, data: { name: 'web-1' } });
  const instance = (await inst.json()).instance.id;
  const made = await owner.request.post(`${base.url}/api/v1/clusters/${cluster}/services`, {
    headers,
    data: { name: 'api', instance_id: instance, source: { git: { url: 'https://example.com/a.git' } } },
  });
  assert.equal(made.status(), 201, await made.text());
  serviceUrl = `${base.url}/c/${cluster}/services/${(await made.json()).id}`;

  const link = await invite('bo@example.com', 'member');
  assert.match(link, /\/invite\/[A-Za-z0-9_-]{40,}$/);
  await shot(owner, '30-invite-link');
  const bo = await signUpThrough(link, 'Bo Member');
  await shot(bo, '31-member-joined');
  // The link is spent.
  const again = await bo.request.get(`${base.url}/api/v1/invites/${link.split('/').pop()}`);
  assert.equal(again.status(), 404);

  await gotoHydrated(bo, serviceUrl);
  await bo.locator('#deploy-form').first().waitFor({ timeout: 15000 });
  await bo.click('#deploy-form button[type=submit]');
  await bo.locator('.deployment').first().waitFor({ timeout: 15000 });
  assert.ok(['queued', 'fetching', 'failed'].includes(
    await bo.locator('.deployment').first().getAttribute('data-state')));

  // Members: the list, but nothing to manage.
  await gotoHydrated(bo, `${base.url}/c/${cluster}/members`);
  await bo.locator('#members-table').first().waitFor({ timeout: 15000 });
  assert.equal(await bo.locator('#members-table tr[data-email="bo@example.com"]').getAttribute('data-role'), 'member');
  assert.equal(await bo.locator('#invite-form').count(), 0);
  assert.equal(await bo.locator('.role-select').count(), 0);
  assert.equal(await bo.locator('.member-remove').count(), 0);
  // The permission matrix, as enforced: Members deploy, Guests do not.
  const deployRow = bo.locator('#permission-matrix tr', { hasText: 'services.deploy' });
  await deployRow.waitFor({ timeout: 15000 });
  assert.deepEqual(await deployRow.locator('td.matrix-cell').allInnerTexts(), ['✓', '✓', '✓', '']);
  await shot(bo, '32-member-members-page');
  const r = await bo.request.post(`${base.url}/api/v1/clusters/${cluster}/invites`,
    { headers, data: { email: 'x@example.com', role: 'guest' } });
  assert.equal(r.status(), 403, 'the server refuses it too');
});

test('a Guest sees deployment states but no logs, no deploy, and no Members page', async () => {
  const link = await invite('cy@example.com', 'guest');
  const cy = await signUpThrough(link, 'Cy Guest');
  await gotoHydrated(cy, serviceUrl);
  await cy.locator('.deployment').first().waitFor({ timeout: 15000 });
  assert.ok(await cy.locator('.deployment').first().getAttribute('data-state'));
  assert.equal(await cy.locator('#deploy-form').count(), 0);
  assert.equal(await cy.locator('#log-link').count(), 0, 'no log viewer');
  assert.equal(await cy.locator('#env-form').count(), 0, 'no environment');
  const logs = await cy.request.get(`${serviceUrl.replace('/c/' + cluster, '/api/v1')}/logs`);
  assert.equal(logs.status(), 403);
  await cy.goto(`${base.url}/c/${cluster}/members`);
  await hydrated(cy);
  assert.equal(await cy.locator('#members-table').count(), 0);
  assert.match(await cy.locator('main').innerText(), /does not allow/);
  await shot(cy, '33-guest-service-page');

  // The Owner sees both joins in the events log.
  await gotoHydrated(owner, `${base.url}/c/${cluster}/events?action=member.`);
  await owner.locator('#event-filters').first().waitFor({ timeout: 15000 });
  const text = await owner.locator('.event-list').innerText();
  assert.match(text, /joined as member/);
  assert.match(text, /joined as guest/);
  assert.match(text, /invited cy@example.com as guest/);
});
