// The console and the file explorer in Chromium against a real dployrd (Base's --local-agent)
// running a real Node service: type into a real shell through xterm.js, watch `stty size` follow
// the window, reload and get the same shell back; upload, view, edit and save, download and
// compare bytes, rename and delete a file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import {
  deployLocalService, gotoHydrated, nodeRepo, shot, signUpFirst, startBase, startBrowser, until,
} from './harness.mjs';

let base;
let chrome;
let page;
let repo;
let serviceUrl;
let clusterUrl;

/** What the terminal shows now (xterm's DOM renderer: one row per line). */
const screen = () => page.locator('#console .xterm-rows').innerText();
const waitScreen = (re, what) => until(async () => re.test(await screen()), 15000, what);

before(async () => {
  base = await startBase({ localAgent: true });
  chrome = await startBrowser();
  const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  repo = nodeRepo('dployr-e2e-tools-',
    "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');\n");

  await signUpFirst(page, base.url);
  const { cluster, service: id } = await deployLocalService(page, base.url, repo, 'tools');
  serviceUrl = `${base.url}/c/${cluster}/services/${id}`;
  clusterUrl = `${base.url}/c/${cluster}`;
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

test('the console runs a real shell, follows the window size and survives a reload', async () => {
  await gotoHydrated(page, serviceUrl, '#open-console');
  await page.click('#open-console');
  await page.waitForURL(/\/console$/);
  await page.locator('#console-status[data-state="live"]').waitFor({ timeout: 20000 });
  await page.click('#console');
  await page.keyboard.type('echo dployr-$((40+2))\n');
  await waitScreen(/dployr-42/, 'dployr-42');
  await shot(page, '41-console');

  await page.keyboard.type('echo sz=$(stty size)=\n');
  const first = (await waitScreen(/sz=\d+ \d+=/, 'stty size') && (await screen()).match(/sz=(\d+ \d+)=/)[1]);
  await page.setViewportSize({ width: 900, height: 600 });
  await page.waitForTimeout(300);
  await page.keyboard.type('clear; echo sz2=$(stty size)=\n');
  await waitScreen(/sz2=\d+ \d+=/, 'the new size');
  const second = (await screen()).match(/sz2=(\d+ \d+)=/)[1];
  assert.notEqual(second, first, 'stty size follows the window');

  await page.keyboard.type('clear; echo pid=$$=\n');
  await waitScreen(/pid=\d+=/, 'the shell pid');
  const pid = (await screen()).match(/pid=(\d+)=/)[1];
  await page.reload();
  await page.locator('#console-status[data-state="live"]').waitFor({ timeout: 20000 });
  assert.match(await page.innerText('#console-status'), /resumed/);
  await page.click('#console');
  await page.keyboard.type('clear; echo again=$$=\n');
  await waitScreen(/again=\d+=/, 'the pid after the reload');
  assert.equal((await screen()).match(/again=(\d+)=/)[1], pid, 'the same shell is back');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('the file explorer uploads, edits, downloads, renames and deletes a file', async () => {
  await gotoHydrated(page, `${serviceUrl}/files`, '#files-table');
  assert.equal(await page.locator('tr[data-name="server.js"]').count(), 1);
  await page.setInputFiles('#upload-input', {
    name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the browser\n'),
  });
  await page.locator('#uploads .upload[data-name="hello.txt"] .upload-state', { hasText: 'done' }).waitFor();
  await page.locator('tr[data-name="hello.txt"]').waitFor();

  await page.click('tr[data-name="hello.txt"] .file-name');
  await page.locator('#file-view', { hasText: 'hello from the browser' }).waitFor();
  await page.click('#file-edit');
  await page.fill('#file-editor', 'port = 8080 # edited in the browser\n');
  await page.click('#file-save');
  await page.locator('#file-view', { hasText: 'edited in the browser' }).waitFor();
  assert.equal(await page.locator('#file-view .hl-number').first().innerText(), '8080');
  await shot(page, '42-files');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('tr[data-name="hello.txt"] .file-download'),
  ]);
  assert.equal(readFileSync(await download.path(), 'utf8'), 'port = 8080 # edited in the browser\n');

  page.once('dialog', (d) => d.accept('renamed.txt'));
  await page.click('tr[data-name="hello.txt"] .file-rename');
  await page.locator('tr[data-name="renamed.txt"]').waitFor();
  assert.equal(await page.locator('tr[data-name="hello.txt"]').count(), 0);

  page.once('dialog', (d) => d.accept());
  await page.click('tr[data-name="renamed.txt"] .file-delete');
  await page.locator('tr[data-name="renamed.txt"]').waitFor({ state: 'detached' });
});

test('an Admin switches consoles off on an instance and back on; the instance console works', async () => {
  await gotoHydrated(page, `${clusterUrl}/instances`);
  await page.locator('.console-switch').waitFor();
  assert.equal(await page.getAttribute('.console-switch', 'data-on'), 'true');
  await page.click('.console-switch');
  await page.locator('.console-switch[data-on="false"]').waitFor();
  assert.equal(await page.locator('.instance-console').count(), 0, 'no Console link while it is off');
  await page.click('.console-switch');
  await page.locator('.console-switch[data-on="true"]').waitFor();
  await page.click('.instance-console');
  await page.waitForURL(/\/instances\/ins_[0-9a-z]+\/console$/);
  await page.locator('#console-status[data-state="live"]').waitFor({ timeout: 20000 });
  await page.click('#console');
  await page.keyboard.type('echo on-the-host-$((6*7))\n');
  await waitScreen(/on-the-host-42/, 'the instance shell');
});
