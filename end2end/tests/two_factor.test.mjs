// Two-factor sign-in in the browser: Ana turns it on from the account page, reading the secret
// from the page and computing the code here (RFC 6238 with node:crypto's HMAC-SHA1), keeps the
// backup codes shown once, signs out, signs in again with the password and then a code, makes
// new backup codes and requires two-factor of the cluster's members.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startBase, startBrowser, gotoHydrated, hydrated, settled, shot, signUpFirst, until } from './harness.mjs';

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

/** Base32 (RFC 4648, no padding) to bytes. */
function fromBase32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/\s+/g, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    assert.ok(i >= 0, `not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of 30 s step `step` for `secret` (base32): RFC 6238, HMAC-SHA1. */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', fromBase32(secret)).update(counter).digest();
  const offset = mac[19] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/** Opens `path` and waits until the hydrated page is quiet (its buttons answer clicks). */
async function open(path) {
  await gotoHydrated(page, `${base.url}${path}`);
  await settled(page, path);
}

const stepNow = () => Math.floor(Date.now() / 30_000);

test('two-factor is turned on from the account page, and signing in then asks for a code', async () => {
  await signUpFirst(page, base.url);
  await open('/account');
  await page.click('#two-factor-start');
  const secretEl = page.locator('#totp-secret');
  await secretEl.waitFor({ timeout: 15000 });
  const secret = (await secretEl.textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok(await page.locator('.two-factor-setup .qr svg').count() === 1, 'the QR code is drawn');
  await shot(page, '70-two-factor-setup');

  const confirmStep = stepNow();
  await page.fill('#two-factor-code', totp(secret, confirmStep));
  await page.click('#two-factor-confirm button[type=submit]');
  const backup = page.locator('#backup-codes');
  await backup.waitFor({ timeout: 15000 });
  const codes = (await backup.inputValue()).split(' ');
  assert.equal(codes.length, 10);
  await page.locator('#two-factor-on').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('#totp-secret').count(), 0, 'the secret is not shown again');
  await shot(page, '71-two-factor-on');

  await page.click('button:has-text("Log out")');
  await page.waitForURL(/\/login$/, { timeout: 15000 });
  await hydrated(page);
  await page.fill('#login-email', 'ana@example.com');
  await page.fill('#login-password', 'correct horse battery');
  await page.click('main form button[type=submit]');
  await page.locator('#login-code-form').waitFor({ timeout: 15000 });
  assert.ok(!(await page.locator('#login-password').isVisible()), 'the password step is done');
  // The confirming code is spent; the next step's code is accepted (one step of drift).
  await page.fill('#login-code', totp(secret, Math.max(stepNow(), confirmStep + 1)));
  await shot(page, '72-two-factor-code');
  await page.click('#login-code-form button[type=submit]');
  await page.waitForURL(/\/c\/cl_[0-9a-z]+$/, { timeout: 15000 });

  const cluster = page.url().match(/cl_[0-9a-z]+/)[0];

  await open('/account');
  assert.match(await page.locator('#two-factor-on').textContent(), /10 backup codes left/);

  // New backup codes: signing in with a code was a step-up (good for 5 minutes), so no dialog.
  await page.click('#backup-codes-renew');
  const renewed = page.locator('#new-backup-codes');
  await renewed.waitFor({ timeout: 15000 });
  const fresh = (await renewed.inputValue()).split(' ');
  assert.equal(fresh.length, 10);
  assert.ok(fresh.every((c) => !codes.includes(c)), 'all ten are new');
  await until(async () => /10 backup codes left/.test(await page.locator('#two-factor-on').textContent()),
    15000, 'the count after renewal');

  // The Owner requires two-factor of the cluster's members.
  await open(`/c/${cluster}/settings`);
  assert.equal(await page.locator('#require-2fa-state').getAttribute('data-required'), 'false');
  await page.click('#require-2fa-toggle');
  await until(async () => (await page.locator('#require-2fa-state').getAttribute('data-required')) === 'true',
    15000, 'the requirement on');
  await shot(page, '73-cluster-requires-two-factor');
});

test('the tokens page makes a token and trusts a CI repository, then stops trusting it', async () => {
  const cluster = page.url().match(/cl_[0-9a-z]+/)[0];
  await open(`/c/${cluster}/tokens`);
  // Signed in with a code minutes ago: the step-up still holds, so the token comes at once.
  await page.fill('#token-name', 'deploy bot');
  await page.click('#token-form button[type=submit]');
  const token = page.locator('#new-token');
  await token.waitFor({ timeout: 15000 });
  assert.match(await token.inputValue(), /^dp_/);

  await page.locator('#no-oidc-bindings').waitFor({ timeout: 15000 });
  await page.fill('#oidc-repository', 'acme/shop');
  await page.fill('#oidc-ref', 'refs/heads/main');
  await page.selectOption('#oidc-role', 'member');
  await page.click('#oidc-form button[type=submit]');
  const row = page.locator('#oidc-table tr[data-binding]');
  await row.waitFor({ timeout: 15000 });
  assert.match(await row.innerText(), /acme\/shop\s+refs\/heads\/main\s+Member\s+https:\/\/token\.actions\.githubusercontent\.com/);
  const listed = await page.request.get(`${base.url}/api/v1/clusters/${cluster}/oidc/bindings`,
    { headers: { Origin: base.url } });
  assert.equal(listed.status(), 200);
  const bindings = (await listed.json()).bindings;
  assert.deepEqual(bindings.map((b) => [b.repository, b.ref, b.role]), [['acme/shop', 'refs/heads/main', 'member']]);
  await shot(page, '74-tokens-and-oidc');

  page.once('dialog', (d) => d.accept());
  await row.locator('button:has-text("Remove")').click();
  await page.locator('#no-oidc-bindings').waitFor({ timeout: 15000 });
});
