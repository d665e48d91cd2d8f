// Connecting a server from the dashboard: add an instance, run the install command's dployrd
// join + run with a real agent binary, and watch the row turn online without a reload (pushed
// over the WebSocket); then remove it after confirming.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBase, startBrowser, hydrated, shot, signUpFirst } from './harness.mjs';

let base;
let chrome;
let page;
let agent;
const agentDir = mkdtempSync(join(tmpdir(), 'dployrd-e2e-'));

before(async () => {
  base = await startBase();
  chrome = await startBrowser();
  page = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
});

after(async () => {
  agent?.kill('SIGKILL');
  await chrome?.stop();
  await base?.stop();
  rmSync(agentDir, { recursive: true, force: true });
});

test('an admin adds an instance and gets a one-time install command', async () => {
  await signUpFirst(page, base.url);
  await page.click('.sidebar >> text=Instances');
  await page.waitForURL(/\/instances$/);
  await hydrated(page);
  assert.ok(await page.isVisible('text=No instances yet'));
  await page.fill('#instance-name', 'web-1');
  await page.click('main button[type=submit]');
  await page.waitForSelector('#install-command');
  const cmd = await page.innerText('#install-command');
  assert.match(cmd, /^curl -fsSL http:\/\/127\.0\.0\.1:\d+\/install\.sh \| sh -s -- --url wss:\/\/127\.0\.0\.1:\d+ --token \S+ --pin sha256:[0-9a-f]{64} --sha256 [0-9a-f]{64}$/);
  await page.waitForSelector('[data-status="pending"]');
  await shot(page, '09-instances-pending');

  const arg = (flag) => cmd.split(/\s+/)[cmd.split(/\s+/).indexOf(flag) + 1];
  const bin = process.env.DPLOYRD_BIN;
  assert.ok(bin, 'set DPLOYRD_BIN to the dployrd binary (.ci/test does)');
  execFileSync(bin, ['--data-dir', agentDir, 'join', '--url', arg('--url'), '--token', arg('--token'), '--pin', arg('--pin')]);
  agent = spawn(bin, ['--data-dir', agentDir, 'run'], { stdio: 'ignore' });
});

test('the instance turns online live, with its host facts, without a reload', async () => {
  await page.waitForSelector('[data-status="online"]', { timeout: 15000 });
  const row = await page.innerText('tr[data-instance]');
  assert.match(row, /web-1/);
  assert.match(row, /CPU/);
  await shot(page, '10-instances-online');
});

test('removing it (after confirming) drops it from the list', async () => {
  page.once('dialog', (d) => d.accept());
  await page.click('text=Remove');
  await page.waitForSelector('text=No instances yet', { timeout: 15000 });
});
