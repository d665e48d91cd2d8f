// The newcomer's path through the dashboard in real Chromium: sign up, land on the overview,
// create a second cluster and switch between them, rename one, log out and back in. Every step
// asserts what a person would see, and the page must have hydrated (interactive controls work).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBase, startBrowser, hydrated, shot, expectError } from './harness.mjs';

let base;
let chrome;
let page;
const email = 'ana@example.com';
const password = 'correct horse battery';

before(async () => {
  base = await startBase();
  chrome = await startBrowser();
  const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
});

const path = () => new URL(page.url()).pathname;
const h1 = () => page.locator('main h1').first().innerText();

test('a fresh Base sends the first visitor to sign-up, and the form validates as you type', async () => {
  await page.goto(`${base.url}/`);
  assert.equal(path(), '/signup');
  await hydrated(page);
  await shot(page, '01-signup');
  const hint = page.locator('#password-hint');
  await page.fill('#signup-email', email);
  await page.locator('#signup-password').pressSequentially('short');
  await page.waitForFunction(() => document.querySelector('#password-hint').classList.contains('bad'));
  assert.match(await hint.innerText(), /Too weak: use at least 10 characters/);
  await page.fill('#signup-password', password);
  await page.waitForFunction(() => document.querySelector('#password-hint').classList.contains('ok'));
  assert.equal(await hint.innerText(), 'Strong enough.');
});

test('signing up lands on the overview of a new cluster with real empty states', async () => {
  await page.fill('#signup-name', 'Ana Lopez');
  await page.click('main button[type=submit]');
  await page.waitForURL(/\/c\/cl_[0-9a-z]+$/);
  await page.waitForSelector('text=No instances yet');
  assert.equal(await h1(), "Ana's cluster");
  assert.ok(await page.isVisible('text=No services yet'));
  assert.ok(await page.isVisible('.event-list >> text=created the cluster'));
  await hydrated(page);
  await shot(page, '02-overview');
});

test('the cluster switcher opens (hydrated) and creates a second cluster', async () => {
  const menu = page.locator('#cluster-menu');
  assert.equal(await menu.isVisible(), false);
  await page.click('#cluster-switcher');
  await menu.waitFor({ state: 'visible' });
  assert.equal(await page.getAttribute('#cluster-switcher', 'aria-expanded'), 'true');
  await shot(page, '03-switcher-open');
  await page.click('text=+ New cluster');
  await page.waitForURL(/\/clusters\/new$/);
  await page.fill('#new-cluster-name', 'Staging');
  await page.click('main button[type=submit]');
  await page.waitForURL(/\/c\/cl_[0-9a-z]+$/);
  await page.waitForFunction(() => document.querySelector('main h1')?.innerText === 'Staging');
  assert.match(await page.innerText('#cluster-switcher'), /Staging/);
  await shot(page, '04-second-cluster');
});

test('switching clusters shows each one', async () => {
  const staging = path();
  await page.click('#cluster-switcher');
  await page.click("#cluster-menu >> text=Ana's cluster");
  await page.waitForFunction(() => document.querySelector('main h1')?.innerText === "Ana's cluster");
  assert.notEqual(path(), staging);
  await page.click('#cluster-switcher');
  const items = await page.locator('#cluster-menu .switcher-name').allInnerTexts();
  assert.deepEqual(items, ["Ana's cluster", 'Staging']);
  await page.click('#cluster-menu >> text=Staging');
  await page.waitForFunction(() => document.querySelector('main h1')?.innerText === 'Staging');
  assert.equal(path(), staging);
});

test('cluster settings rename the cluster and the switcher follows', async () => {
  await page.click('.sidebar >> text=Settings');
  await page.waitForURL(/\/settings$/);
  await page.fill('#cluster-name', 'Staging EU');
  await page.click('main button[type=submit]');
  await page.waitForSelector('.form-success');
  await page.waitForFunction(() => document.querySelector('#cluster-switcher')?.innerText.includes('Staging EU'));
  await shot(page, '05-settings');
  await page.fill('#cluster-name', '   ');
  expectError(/status of 400/);
  await page.click('main button[type=submit]');
  await page.waitForSelector('#cluster-name-error');
  assert.equal(await page.innerText('#cluster-name-error'), 'cannot be empty');
  assert.equal(await page.getAttribute('#cluster-name', 'aria-invalid'), 'true');
});

test('the account page lists clusters and activity', async () => {
  await page.click('.topbar >> text=Ana Lopez');
  await page.waitForURL(/\/account$/);
  const names = await page.locator('.cluster-list .cluster-name').allInnerTexts();
  assert.deepEqual(names, ["Ana's cluster", 'Staging EU']);
  await page.waitForSelector('.event-list');
  await shot(page, '06-account');
});

test('the Owner deletes a cluster only after typing its name', async () => {
  await page.click('.cluster-row:has-text("Staging EU") >> text=Open');
  await page.waitForURL(/\/c\/cl_[0-9a-z]+$/);
  await page.click('.sidebar >> text=Settings');
  await page.waitForURL(/\/settings$/);
  await hydrated(page);
  await page.fill('#confirm-delete', 'Staging');
  assert.equal(await page.isDisabled('#delete-cluster'), true, 'a wrong name keeps it disabled');
  await page.fill('#confirm-delete', 'Staging EU');
  await page.waitForFunction(() => !document.querySelector('#delete-cluster').disabled);
  await page.click('#delete-cluster');
  await page.waitForFunction(() => document.querySelector('main h1')?.innerText === "Ana's cluster");
  await hydrated(page);
  await page.click('#cluster-switcher');
  const items = await page.locator('#cluster-menu .switcher-name').allInnerTexts();
  assert.deepEqual(items, ["Ana's cluster"]);
  await page.click('#cluster-switcher');
});

test('logging out ends the session; logging back in returns to the first cluster', async () => {
  await page.click('text=Log out');
  await page.waitForURL(/\/login$/);
  await hydrated(page);
  await page.goto(`${base.url}/account`);
  assert.equal(path(), '/login', 'signed-out pages redirect to log-in');
  await hydrated(page);
  await page.fill('#login-email', email);
  await page.fill('#login-password', 'not my password');
  expectError(/status of 401/);
  await page.click('main button[type=submit]');
  await page.waitForSelector('.form-error');
  assert.equal(await page.innerText('.form-error'), 'invalid email or password');
  await shot(page, '07-login-error');
  await page.fill('#login-password', password);
  await page.click('main button[type=submit]');
  await page.waitForURL(/\/c\/cl_[0-9a-z]+$/);
  await page.waitForFunction(() => document.querySelector('main h1')?.innerText === "Ana's cluster");
});

test('dark mode follows the system preference', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, light, 'dark and light backgrounds differ');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, '08-overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

