// Notifications in the browser: an Owner adds a signed webhook channel on the Notifications page,
// copies its signing secret (shown once), presses "Send test" and a real local receiver gets a
// POST whose HMAC the test recomputes with that secret; the page shows the attempt, and the
// channel's deliveries list it. A Slack channel whose receiver answers 500 shows the failed
// attempt with its status; removing a channel takes its card away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { gotoHydrated, settled, shot, signUpFirst, startBase, startBrowser, until } from './harness.mjs';

let base;
let chrome;
let page;
let receiver;
const received = [];

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body });
      res.statusCode = req.url === '/broken' ? 500 : 200;
      res.end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  base = await startBase();
  chrome = await startBrowser();
  page = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signUpFirst(page, base.url);
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
  receiver?.close();
});

const hook = (path) => `http://127.0.0.1:${receiver.address().port}${path}`;

/** Fills the new-channel form and submits it; waits for the channel's card. */
async function addChannel({ name, kind, url, untick = [] }) {
  await page.fill('#channel-name', name);
  await page.selectOption('#channel-kind', kind);
  await page.fill('#channel-url', url);
  for (const alert of untick) await page.uncheck(`input[data-alert="${alert}"]`);
  await page.click('#channel-form button[type=submit]');
  const card = page.locator('article.channel', { hasText: name });
  await card.waitFor({ timeout: 15000 });
  return card;
}

test('a webhook channel is added, tested with a valid signature, and its delivery is listed', async () => {
  await page.click('.sidebar >> text=Notifications');
  await page.waitForURL(/\/notifications$/);
  await settled(page, 'the notifications page');
  await page.locator('#no-channels').waitFor();

  const card = await addChannel({
    name: 'On-call', kind: 'webhook', url: hook('/hook'), untick: ['disk.high'],
  });
  const secret = await page.locator('#channel-secret').inputValue();
  assert.ok(secret.length >= 20, `a signing secret is shown once: ${secret}`);
  const alerts = await card.locator('.channel-alerts').innerText();
  assert.match(alerts, /Deploy failed/);
  assert.match(alerts, /Instance offline/);
  assert.doesNotMatch(alerts, /Disk above/, 'the unticked alert is not subscribed');
  assert.match(await card.locator('[data-last-delivery]').innerText(), /Nothing sent yet/);

  await card.locator('.channel-test').click();
  const result = card.locator('.channel-test-result');
  await result.waitFor({ timeout: 15000 });
  assert.equal(await result.getAttribute('data-ok'), 'true');
  assert.match(await result.innerText(), /delivered \(200\)/);

  const sent = received.find((r) => r.path === '/hook');
  assert.ok(sent, 'the receiver got the test');
  const ts = sent.headers['x-dployr-timestamp'];
  const expected = createHmac('sha256', secret).update(`${ts}.${sent.body}`).digest('hex');
  assert.equal(sent.headers['x-dployr-signature'], `sha256=${expected}`);
  assert.equal(JSON.parse(sent.body).alert, 'test');

  await card.locator('.channel-deliveries-toggle').click();
  const row = card.locator('table.deliveries tbody tr').first();
  await row.waitFor({ timeout: 15000 });
  assert.equal(await row.getAttribute('data-state'), 'delivered');
  assert.match(await row.locator('.attempts').innerText(), /delivered \(200\)/);
  await shot(page, '60-notifications');

  // The newest delivery is on the card after a reload too.
  await page.reload();
  await settled(page, 'the notifications page after a reload');
  const again = page.locator('article.channel', { hasText: 'On-call' });
  assert.match(await again.locator('[data-last-delivery]').innerText(), /delivered/);
  assert.equal(await page.locator('#channel-secret').count(), 0, 'the secret is not shown again');
});

test('a failing receiver shows its status on the attempt, and a channel can be removed', async () => {
  const card = await addChannel({ name: 'Team chat', kind: 'slack', url: hook('/broken') });
  assert.equal(await page.locator('#channel-secret').count(), 0, 'Slack channels have no signing secret');
  assert.match(await card.locator('.channel-dest').innerText(), /URL hidden/);
  assert.doesNotMatch(await card.innerText(), /broken/, 'the Slack URL is not shown');

  await card.locator('.channel-test').click();
  const result = card.locator('.channel-test-result');
  await result.waitFor({ timeout: 15000 });
  assert.equal(await result.getAttribute('data-ok'), 'false');
  assert.match(await result.innerText(), /500/);
  await card.locator('.channel-deliveries-toggle').click();
  const row = card.locator('table.deliveries tbody tr').first();
  await row.waitFor({ timeout: 15000 });
  assert.match(await row.locator('.attempts').innerText(), /500/);

  page.once('dialog', (d) => d.accept());
  await card.locator('button', { hasText: 'Remove' }).click();
  await until(async () => (await page.locator('article.channel', { hasText: 'Team chat' }).count()) === 0,
    15000, 'the removed channel to go');
  assert.equal(await page.locator('article.channel').count(), 1, 'the other channel stays');
});
