// A service's Domains card in real Chromium, against a real Base whose TXT lookups go to a DNS
// server this test runs (dns.mjs): an Admin adds a domain (a bad name refused under its input)
// and sees it pending with the `_dployr.<domain>` TXT record to create; Verify without the
// record says none was found; with it, the domain is verified. HSTS switches on and off (kept
// across a reload). A certificate upload with a key of another certificate, or a certificate for
// another name, is refused in the form; the right one shows as uploaded with its issuer and
// expiry, and the key never comes back. Remove drops the domain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startBase, startBrowser, hydrated, gotoHydrated, shot, signUpFirst, expectError, addInstance,
} from './harness.mjs';
import { startDns } from './dns.mjs';

const DOMAIN = 'shop.example.com';

let dns;
let base;
let chrome;
let page;
let certDir;

before(async () => {
  dns = await startDns();
  base = await startBase({ dnsServer: dns.addr });
  chrome = await startBrowser();
  page = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  certDir = mkdtempSync(join(tmpdir(), 'dployr-e2e-certs-'));
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
  await dns?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

/** A self-signed certificate for `name` valid 30 days, and its key, as PEM (openssl). */
function selfSigned(name) {
  const cert = join(certDir, `${name}.crt`);
  const key = join(certDir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '30', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    '-keyout', key, '-out', cert], { stdio: 'pipe' });
  return { chain: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

const row = () => page.locator(`li.domain[data-domain="${DOMAIN}"]`);

test('an admin opens a new service: its Domains card has none yet', async () => {
  await signUpFirst(page, base.url);
  await addInstance(page, 'web-1');
  await page.click('.sidebar >> text=Services');
  await page.waitForURL(/\/services$/);
  await page.click('#new-service');
  await page.waitForURL(/\/services\/new$/);
  await hydrated(page);
  await page.fill('#svc-name', 'shop');
  await page.fill('#svc-git-url', 'https://example.com/shop.git');
  await page.click('#new-service-form button[type=submit]');
  await page.waitForURL(/\/services\/svc_[0-9a-z]+$/);
  await page.locator('#domains-empty').waitFor();
});

test('a bad name is refused under its input; a good one is pending with its TXT record', async () => {
  expectError(/status of 400/);
  await page.fill('#domains-name', 'Bad_Domain');
  await page.click('#domains-form button[type=submit]');
  await page.locator('#domains-name-error').waitFor();
  assert.match(await page.innerText('#domains-name-error'), /not a valid domain/);

  await page.fill('#domains-name', DOMAIN);
  await page.click('#domains-form button[type=submit]');
  await row().waitFor();
  assert.equal(await row().getAttribute('data-status'), 'pending');
  assert.equal(await page.locator('#domains-name-error').count(), 0);
  const txt = row().locator('.dns-records tbody tr', { hasText: 'TXT' });
  const [kind, name, value] = await txt.locator('td').allInnerTexts();
  assert.equal(kind, 'TXT');
  assert.equal(name, `_dployr.${DOMAIN}`);
  assert.match(value, /^dployr-verify=\S+$/);
  await shot(page, '17-domain-pending');
});

test('Verify says when the TXT record is missing, and verifies the domain once it is there', async () => {
  await row().locator('.domain-verify').click();
  await row().locator('.badge', { hasText: `no TXT record at _dployr.${DOMAIN}` }).waitFor();
  assert.equal(await row().getAttribute('data-status'), 'pending');

  const txt = row().locator('.dns-records tbody tr', { hasText: 'TXT' });
  dns.setTxt(`_dployr.${DOMAIN}`, await txt.locator('td.record-value').innerText());
  await row().locator('.domain-verify').click();
  await page.locator(`li.domain[data-domain="${DOMAIN}"][data-status="verified"]`).waitFor();
  assert.equal(await row().locator('.badge').innerText(), 'verified');
  assert.equal(await row().locator('.dns-records').count(), 0, 'no records to create any more');
  assert.equal(await row().locator('.domain-verify').count(), 0);
});

test('HSTS switches on, stays on after a reload, and switches off', async () => {
  const hsts = row().locator('.domain-hsts');
  assert.equal(await hsts.getAttribute('aria-checked'), 'false');
  await hsts.click();
  await page.locator(`li.domain[data-domain="${DOMAIN}"][data-hsts="true"]`).waitFor();
  assert.equal(await hsts.getAttribute('aria-checked'), 'true');
  assert.equal(await hsts.innerText(), 'HSTS on');

  await gotoHydrated(page, page.url());
  await row().waitFor();
  assert.equal(await row().getAttribute('data-hsts'), 'true');
  await hsts.click();
  await page.locator(`li.domain[data-domain="${DOMAIN}"][data-hsts="false"]`).waitFor();
  assert.equal(await hsts.innerText(), 'HSTS off');
});

test('an upload is refused for a key of another certificate or a certificate of another name', async () => {
  const mine = selfSigned(DOMAIN);
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' });
  await row().locator('.domain-upload').click();
  const form = page.locator('#certificate-form');
  await form.waitFor();
  assert.match(await form.innerText(), new RegExp(`Certificate for ${DOMAIN}`));

  expectError(/status of 400/);
  await page.fill('#certificate-chain', mine.chain);
  await page.fill('#certificate-key', otherKey);
  await form.locator('button[type=submit]').click();
  await page.locator('#certificate-key-error').waitFor();
  assert.match(await page.innerText('#certificate-key-error'), /does not belong to the first certificate/);
  assert.equal(await page.getAttribute('#certificate-key', 'aria-invalid'), 'true');
  // What was pasted is still there to correct.
  assert.equal(await page.inputValue('#certificate-chain'), mine.chain);
  await shot(page, '18-certificate-key-mismatch');

  const theirs = selfSigned('other.example.com');
  expectError(/status of 400/);
  await page.fill('#certificate-chain', theirs.chain);
  await page.fill('#certificate-key', theirs.key);
  await form.locator('button[type=submit]').click();
  await page.locator('#certificate-chain-error').waitFor();
  assert.match(await page.innerText('#certificate-chain-error'),
    new RegExp(`is for other\\.example\\.com and not for ${DOMAIN.replace(/\./g, '\\.')}`));
  assert.equal(await page.locator('#certificate-key-error').count(), 0);
  assert.equal(await row().locator('.domain-cert').innerText(), '', 'nothing was stored');
});

test('the right certificate shows as uploaded with its expiry; its key is never shown', async () => {
  const mine = selfSigned(DOMAIN);
  await page.fill('#certificate-chain', mine.chain);
  await page.fill('#certificate-key', mine.key);
  await page.click('#certificate-form button[type=submit]');
  await page.locator('#certificate-uploaded').waitFor();
  assert.equal(await page.locator('#certificate-form').count(), 0, 'the form (and the key) is gone');
  const cert = row().locator('.domain-cert');
  await cert.filter({ hasText: 'uploaded certificate' }).waitFor();
  // No instance is online here: stored, not serving yet.
  assert.match(await cert.innerText(),
    new RegExp(`^uploaded certificate from ${DOMAIN.replace(/\./g, '\\.')}, expiring in (29|30) days, not serving yet$`));
  await shot(page, '19-certificate-uploaded');

  const keyBody = mine.key.split('\n')[1];
  await gotoHydrated(page, page.url());
  await row().locator('.domain-cert', { hasText: 'uploaded certificate' }).waitFor();
  assert.ok(!(await page.content()).includes(keyBody), 'the key is not in the page');
  const listed = await page.evaluate(async (url) => (await fetch(url)).text(),
    `${base.url}/api/v1/services/${page.url().split('/').pop()}/domains`);
  assert.ok(!listed.includes(keyBody), 'nor in the API');
  assert.match(listed, /"uploaded":true/);
});

test('Remove drops the domain after confirming', async () => {
  page.once('dialog', (d) => d.accept());
  await row().locator('.domain-remove').click();
  await page.locator('#domains-empty').waitFor();
  assert.equal(await row().count(), 0);
});
