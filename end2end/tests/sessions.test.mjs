// Sign-ins and sessions in the browser (issue 21): a Member signs in and the cluster's Events page
// shows the sign-in; signed in from two browsers, the account page lists both sessions, and
// signing the other one out sends that browser to the sign-in page on its next navigation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBase, startBrowser, gotoHydrated, hydrated, shot, signUpFirst, until } from './harness.mjs';

let base;
let chrome;

before(async () => {
  base = await startBase();
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
});

/** A new browser context's page. */
async function browserPage() {
  return (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
}

/** Signs `email` in on the sign-in page and waits for the cluster it lands on. */
async function signIn(page, email) {
  await gotoHydrated(page, `${base.url}/login`);
  await page.fill('#login-email', email);
  await page.fill('#login-password', 'correct horse battery');
  await page.click('main button[type=submit]');
  await page.waitForURL(/\/c\/cl_[0-9a-z]+$/, { timeout: 15000 });
}

test('a Member signs in, sees it in the Events, and signs the other browser out', async () => {
  const owner = await browserPage();
  await signUpFirst(owner, base.url);
  const cluster = owner.url().match(/cl_[0-9a-z]+/)[0];
  const headers = { Origin: base.url, 'Content-Type': 'application/json' };
  const made = await owner.request.post(`${base.url}/api/v1/clusters/${cluster}/invites`,
    { headers, data: { email: 'bo@example.com', role: 'member' } });
  assert.equal(made.status(), 201, await made.text());
  const token = (await made.json()).invite_url.split('/').pop();
  // Bo's account, made by accepting the invitation outside the browsers; that session ends at once.
  const joined = await fetch(`${base.url}/api/v1/invites/${token}/accept`, {
    method: 'POST', headers,
    body: JSON.stringify({ email: 'bo@example.com', password: 'correct horse battery', name: 'Bo Member' }),
  });
  assert.equal(joined.status, 201, await joined.text());
  const cookie = joined.headers.get('set-cookie').split(';')[0];
  const out = await fetch(`${base.url}/api/v1/auth/logout`, { method: 'POST', headers: { ...headers, Cookie: cookie } });
  assert.equal(out.status, 204);

  const here = await browserPage();
  const there = await browserPage();
  await signIn(here, 'bo@example.com');
  await signIn(there, 'bo@example.com');

  await gotoHydrated(here, `${base.url}/c/${cluster}/events`);
  const signIns = here.locator('.event-list li.event[data-action="user.login"]');
  await signIns.first().waitFor({ timeout: 15000 });
  assert.equal(await signIns.count(), 2, 'both sign-ins');
  assert.match(await signIns.first().innerText(), /Bo Member\s+signed in/);
  assert.match(await signIns.first().innerText(), /(Headless )?Chrome \d+ on Linux/);
  await shot(here, '60-member-sign-ins-in-events');

  await gotoHydrated(here, `${base.url}/account`);
  const rows = here.locator('#sessions li.session');
  await rows.first().waitFor({ timeout: 15000 });
  assert.equal(await rows.count(), 2, 'two signed-in browsers');
  assert.equal(await here.locator('#sessions li.session[data-current="true"]').count(), 1);
  assert.match(await here.locator('#security-log').innerText(), /signed in/);
  await shot(here, '61-account-sessions');

  here.once('dialog', (d) => d.accept());
  await here.click('#sessions li.session[data-current="false"] button');
  await until(async () => (await rows.count()) === 1, 15000, 'the other session to leave the list');
  assert.equal(await here.locator('#sessions li.session').getAttribute('data-current'), 'true');
  await until(async () => /signed out a session on (Headless )?Chrome/.test(
    await here.locator('#security-log').innerText()), 15000, 'the sign-out in the security log');

  await there.goto(`${base.url}/c/${cluster}/events`);
  await hydrated(there);
  assert.match(new URL(there.url()).pathname, /^\/login$/, 'the other browser is signed out');
  await shot(there, '62-signed-out-browser');
});
