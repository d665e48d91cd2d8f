// Starts a real dployr-server on a free port with a fresh data dir (optionally with a real local
// dployrd that joins the first cluster, ingress on its own free port), and Debian's Chromium
// through playwright-core (flags from shared/TOOLCHAIN.md). Everything is torn down by stop().
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const here = dirname(fileURLToPath(import.meta.url));
export const screenshotDir = join(here, '..', 'screenshots');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, deadlineMs = 30000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`dployr-server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('dployr-server did not become healthy within 30 s');
}

/**
 * `localAgent: true` runs Base with `--local-agent`: once someone signs up, Base enrolls a real
 * dployrd (DPLOYRD_BIN, else the one beside dployr-server) into the first cluster; its ingress
 * listens on `ingress` (host:port). `dnsServer` (host:port, e.g. dns.mjs's) is where Base looks
 * up the TXT records that verify domains (`--dns-server`).
 */
export async function startBase({ localAgent = false, dnsServer = null } = {}) {
  const bin = process.env.DPLOYR_SERVER_BIN;
  if (!bin) throw new Error('set DPLOYR_SERVER_BIN to the dployr-server binary (.ci/test does)');
  // Base's data dir one level down: the local dployrd keeps its own beside it (`<dir>-agent`).
  const root = mkdtempSync(join(tmpdir(), 'dployr-e2e-'));
  const dataDir = join(root, 'base');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = [];
  const args = ['--listen', `127.0.0.1:${port}`, '--gateway-listen', '127.0.0.1:0', '--data-dir', dataDir];
  if (dnsServer) args.push('--dns-server', dnsServer);
  let ingress = null;
  if (localAgent) {
    ingress = `127.0.0.1:${await freePort()}`;
    // The tools tests open the instance console, which is off on the local instance by default.
    args.push('--local-agent', '--local-ingress', ingress, '--local-agent-console');
    if (process.env.DPLOYRD_BIN) args.push('--agent-bin', process.env.DPLOYRD_BIN);
  }
  const child = spawn(bin, args, {
    env: { ...process.env, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => logs.push(String(d)));
  child.stderr.on('data', (d) => logs.push(String(d)));
  await waitHealthy(url, child);
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    // The local dployrd and the services it ran work inside the temp dir: end what is left,
    // and remove the services' system users it made (their homes are in there too).
    killWorkingIn(root);
    removeUsersUnder(root);
    rmSync(root, { recursive: true, force: true });
  };
  return { url, ingress, stop, logs };
}

/** Deletes the `dployr-svc-*` users whose home is under `dir` (as dployrd made them, as root). */
function removeUsersUnder(dir) {
  let passwd = '';
  try { passwd = readFileSync('/etc/passwd', 'utf8'); } catch { return; }
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length === 7 && fields[0].startsWith('dployr-svc-') && fields[5].startsWith(dir)) {
      spawnSync('userdel', ['-f', fields[0]]);
    }
  }
}

/** SIGKILLs every process working in `dir` or naming it in its arguments (by pid, from /proc). */
function killWorkingIn(dir) {
  for (const pid of readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p))) {
    try {
      const inside = readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)
        || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      if (inside && Number(pid) !== process.pid) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone, or not ours to read */ }
  }
}

/**
 * Every page error and console error of every page opened in a browser from startBrowser(), in
 * order, with the page's URL. The harness fails the running test on any (see afterEach below): a
 * test that provokes one on purpose says so with expectError() first.
 */
const pageErrors = [];
let expected = [];

function watch(page) {
  const record = (kind, text) => {
    const i = expected.findIndex((re) => re.test(text));
    if (i >= 0) { expected.splice(i, 1); return; }
    pageErrors.push(`${kind} on ${page.url()}: ${text}`);
  };
  page.on('pageerror', (e) => record('page error', String(e.stack || e)));
  page.on('console', (m) => { if (m.type() === 'error') record('console error', m.text()); });
}

/**
 * The next page or console error matching `re` is expected (a test that provokes a failed request
 * on purpose, say); it is not counted. One call excuses one error, and only in the current test.
 */
export function expectError(re) {
  expected.push(re);
}

/** Fails the test with every page and console error seen since the last check. */
export function assertNoPageErrors(when = '') {
  const seen = pageErrors.splice(0);
  assert.deepEqual(seen, [], `page errors${when ? ` ${when}` : ''}:\n${seen.join('\n')}`);
}

// One hook for every test of every file: page errors from the start (before hooks included) to
// the end of each test fail that test.
afterEach(() => {
  expected = [];
  assertNoPageErrors();
});
after(() => assertNoPageErrors('after the last test'));

export async function startBrowser() {
  // playwright-core gives every launch a fresh, empty profile (what --user-data-dir would do).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  // Every page of every context is watched, however the test opens it.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const context = await newContext(...args);
    context.on('page', watch);
    if (process.env.DPLOYR_E2E_PKG) await servePkgFrom(context, process.env.DPLOYR_E2E_PKG);
    return context;
  };
  browser.newPage = async (...args) => (await browser.newContext(...args)).newPage();
  mkdirSync(screenshotDir, { recursive: true });
  const stop = async () => {
    await browser.close();
  };
  return { browser, stop };
}

/**
 * Serves the front end's modules (/pkg/frontend.js, the split loader and every .wasm chunk) from
 * `dir` instead of the ones the server embeds: for finding a hydration mismatch with a front end
 * built with `--cfg leptos_debuginfo` (which names the component that did not match), or for
 * comparing bundles (bench/tti.mjs). Files `dir` lacks come from the server.
 */
export async function servePkgFrom(context, dir) {
  await context.route(/\/pkg\/[^/]+\.(wasm|js)$/, (route) => {
    const file = join(dir, new URL(route.request().url()).pathname.split('/').pop());
    if (!existsSync(file)) return route.continue();
    const wasm = file.endsWith('.wasm');
    return route.fulfill({
      body: readFileSync(file),
      contentType: wasm ? 'application/wasm' : 'text/javascript',
    });
  });
}

/** Waits for `check()` to be truthy (polled every 100 ms); returns its value. */
export async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the WASM bundle has hydrated the page (the app sets data-hydrated on <html>). */
export async function hydrated(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 30000 });
}

/**
 * Waits until the page has hydrated and then stayed quiet (no DOM change for 150 ms, at most 5 s:
 * a live page may keep changing), failing at once, naming `what`, if a page error or console error
 * happened meanwhile.
 */
export async function settled(page, what) {
  const failed = () => pageErrors.length > 0;
  await until(async () => failed() || (await page.$('html[data-hydrated="true"]')) !== null, 30000,
    `${what} to hydrate`);
  if (!failed()) {
    await page.evaluate(() => new Promise((resolve) => {
      let timer = setTimeout(done, 150);
      const cap = setTimeout(done, 5000);
      const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, 150); });
      observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      function done() { observer.disconnect(); clearTimeout(cap); clearTimeout(timer); resolve(); }
    }));
  }
  assertNoPageErrors(`loading ${what}`);
}

/** Loads `url` and waits until `ready` (a selector that only a hydrated page shows) is there. */
export async function gotoHydrated(page, url, ready = 'html[data-hydrated="true"]') {
  await page.goto(url);
  await page.waitForSelector(ready, { timeout: 30000 });
}

/** Signs up Ana, the first person on a fresh Base (so she owns it), and waits for her cluster. */
export async function signUpFirst(page, url) {
  await page.goto(`${url}/signup`);
  await hydrated(page);
  await page.fill('#signup-name', 'Ana Lopez');
  await page.fill('#signup-email', 'ana@example.com');
  await page.fill('#signup-password', 'correct horse battery');
  await page.click('main button[type=submit]');
  await page.waitForURL(/\/c\/cl_[0-9a-z]+$/);
}

/** Adds an instance called `name` on the Instances page and waits for its install command. */
export async function addInstance(page, name) {
  await page.click('.sidebar >> text=Instances');
  await page.waitForURL(/\/instances$/);
  await hydrated(page);
  await page.fill('#instance-name', name);
  await page.click('main button[type=submit]');
  await page.waitForSelector('#install-command');
}

export async function shot(page, name) {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * A git repository in a fresh temp dir (`prefix` names it) holding a Node app whose `npm start`
 * runs `serverJs`, committed on `main`. The caller removes the dir.
 */
export function nodeRepo(prefix, serverJs) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const git = (...args) => execFileSync('git',
    ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'package.json'),
    '{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}');
  writeFileSync(join(dir, 'server.js'), serverJs);
  git('add', '-A');
  git('commit', '-q', '-m', 'v1');
  return dir;
}

/**
 * On the cluster `page` is signed in to (its URL names it), waits for Base's local dployrd to be
 * online, creates the Node service `name` from the repository in `repo` there and deploys it,
 * waiting until the deployment is live. Returns the cluster's, the instance's and the service's ids.
 */
export async function deployLocalService(page, url, repo, name) {
  const cluster = page.url().match(/cl_[0-9a-z]+/)[0];
  const instance = await until(async () => {
    const text = await (await page.request.get(`${url}/api/v1/clusters/${cluster}/instances`)).text();
    return text.includes('"online"') && text.match(/ins_[0-9a-z]+/)[0];
  }, 60000, 'the local dployrd to come online');
  const made = await page.request.post(`${url}/api/v1/clusters/${cluster}/services`, {
    headers: { Origin: url },
    data: { name, instance_id: instance, source: { git: { url: `file://${repo}` } }, runtime: 'node' },
  });
  assert.equal(made.status(), 201, await made.text());
  const service = (await made.json()).id;
  const dep = await page.request.post(`${url}/api/v1/services/${service}/deployments`, {
    headers: { Origin: url }, data: {},
  });
  assert.ok(dep.ok(), await dep.text());
  const depId = (await dep.json()).deployment.id;
  await until(async () => {
    const d = await (await page.request.get(`${url}/api/v1/deployments/${depId}`)).json();
    if (['failed', 'timed_out', 'cancelled'].includes(d.state)) throw new Error(JSON.stringify(d));
    return d.state === 'live';
  }, 120000, 'the deployment to go live');
  return { cluster, instance, service };
}
