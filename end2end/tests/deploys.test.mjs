// The service page against a real dployrd (Base's --local-agent) deploying a real Node app from
// a git repository made here: the deployment's steps with durations, the live log viewer (lines
// as they are printed, ANSI colours as styled spans, text never read as HTML, stderr marked,
// search, pause), a 100,000-line burst held with a bounded number of rows in the DOM, and
// Rollback, Restart, Stop and Start checked through the ingress.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBase, startBrowser, gotoHydrated, shot, signUpFirst, until } from './harness.mjs';

// The app: coloured and HTML-looking lines at start, one line per /tick, `n` lines on /flood
// (1,000 every 100 ms: dployrd's bounded queue is sized for bursts, not for an endless firehose).
const app = (version) => `
const http = require('http');
console.log('\\x1b[31mred alert\\x1b[0m plain \\x1b[1;32mbold green\\x1b[0m');
console.log('\\x1b[38;2;255;128;0mtruecolor orange\\x1b[0m and \\x1b[38;5;45m256 blue\\x1b[0m');
console.log('<b>not html</b> & <script>window.__pwned = 1</script>');
console.error('warn: this went to stderr');
function flood(n, tag) {
  let i = 0;
  (function batch() {
    let out = '';
    for (const end = Math.min(n, i + 1000); i < end; i++) out += tag + ' ' + i + '\\n';
    process.stdout.write(out);
    if (i < n) setTimeout(batch, 100);
  })();
}
http.createServer((q, s) => {
  const u = new URL(q.url, 'http://x');
  if (u.pathname === '/tick') console.log('tick ' + u.searchParams.get('n'));
  if (u.pathname === '/flood') flood(Number(u.searchParams.get('n')), u.searchParams.get('tag'));
  if (u.pathname === '/secret') {
    console.log('the token is ' + process.env.E2E_TOKEN);
    return s.end((process.env.E2E_TOKEN || 'unset').split('').reverse().join(''));
  }
  s.end('${version}');
}).listen(process.env.PORT, '127.0.0.1', () => console.log('listening ${version}'));
`;

let base;
let chrome;
let page;
let repo;
let serviceUrl;

function git(...args) {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo });
}

function commit(version) {
  writeFileSync(join(repo, 'package.json'),
    '{"name":"web","version":"1.0.0","scripts":{"start":"node server.js"}}');
  writeFileSync(join(repo, 'server.js'), app(version));
  git('add', '-A');
  git('commit', '-q', '-m', version);
}

/** GET `path` through dployrd's ingress as `web.localhost`. */
function viaIngress(path) {
  const [host, port] = base.ingress.split(':');
  return new Promise((resolve) => {
    const req = request({ host, port, path, headers: { Host: 'web.localhost' } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.end();
  });
}


const logCount = async () => Number(await page.getAttribute('#log-count', 'data-count'));
const scrollBox = () => page.evaluate(() => {
  const el = document.querySelector('.log-scroll');
  return { top: el.scrollTop, height: el.clientHeight, content: el.scrollHeight };
});
const atBottom = (b) => b.top + b.height >= b.content - 4;

before(async () => {
  base = await startBase({ localAgent: true });
  chrome = await startBrowser();
  page = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  repo = mkdtempSync(join(tmpdir(), 'dployr-e2e-repo-'));
  git('init', '-q', '-b', 'main');
  commit('v1');
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

test('an owner with the local dployrd online has a Node service to deploy', async () => {
  await signUpFirst(page, base.url);
  const cluster = page.url().match(/cl_[0-9a-z]+/)[0];
  const instance = await until(async () => {
    const r = await page.request.get(`${base.url}/api/v1/clusters/${cluster}/instances`);
    const text = await r.text();
    return text.includes('"online"') && text.match(/ins_[0-9a-z]+/)[0];
  }, 60000, 'the local dployrd to come online');
  const made = await page.request.post(`${base.url}/api/v1/clusters/${cluster}/services`, {
    headers: { Origin: base.url },
    data: {
      name: 'web', instance_id: instance, source: { git: { url: `file://${repo}` } },
      runtime: 'node', build_command: 'echo building the app',
    },
  });
  assert.equal(made.status(), 201, await made.text());
  serviceUrl = `${base.url}/c/${cluster}/services/${(await made.json()).id}`;
  // Ready once the log viewer, inside the page's Suspense, has hydrated and opened its stream.
  await gotoHydrated(page, serviceUrl, '#log-link[data-link="live"]');
  assert.equal(await page.locator('#service-restart').count(), 0, 'nothing to restart yet');
});

test('Deploy goes live through every step with its duration, and its output streams in', async () => {
  await page.evaluate(() => { window.__noReload = true; });
  await page.click('#deploy-form button[type=submit]');
  const live = page.locator('.deployment[data-state="live"]');
  await live.waitFor({ timeout: 120000 });
  const steps = await live.locator('.step').evaluateAll((els) => els.map((e) => e.dataset.step));
  assert.deepEqual(steps, ['queued', 'fetching', 'building', 'starting', 'health_checking', 'live']);
  const took = await live.locator('.step-took').allInnerTexts();
  assert.equal(took.length, 5, 'every step but the last says how long it took');
  for (const t of took) assert.match(t, /^\d+ (ms|s)$|min/);
  assert.equal((await viaIngress('/')).body, 'v1');

  const rows = page.locator('.log-row');
  await rows.filter({ hasText: 'listening v1' }).waitFor({ timeout: 15000 });
  // Colours are spans with classes (palette) or inline colours (256, truecolor)…
  assert.equal(await page.locator('.log-row .ansi-fg-1').first().innerText(), 'red alert');
  assert.equal(await page.locator('.log-row .ansi-fg-2.ansi-bold').first().innerText(), 'bold green');
  const orange = page.locator('.log-row span', { hasText: /^truecolor orange$/ }).first();
  assert.equal(await orange.evaluate((e) => getComputedStyle(e).color), 'rgb(255, 128, 0)');
  const blue = page.locator('.log-row span', { hasText: /^256 blue$/ }).first();
  assert.equal(await blue.evaluate((e) => getComputedStyle(e).color), 'rgb(0, 215, 255)');
  // …and text is text: the line's markup is shown, never parsed or run.
  const html = rows.filter({ hasText: '<b>not html</b>' }).first();
  assert.match(await html.innerText(), /<script>window.__pwned = 1<\/script>/);
  assert.equal(await page.locator('.log-text b, .log-text script').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  // stderr is marked; every line has its time.
  await page.locator('.log-stderr', { hasText: 'warn: this went to stderr' }).waitFor();
  assert.equal(await page.locator('.log-stderr .log-mark').first().innerText(), 'err');
  assert.match(await rows.last().locator('.log-time').innerText(), /^\d\d:\d\d:\d\d\.\d{3}$/);
  await shot(page, '21-service-live-logs');

  // A line printed now appears without a reload.
  await viaIngress('/tick?n=1');
  await rows.filter({ hasText: /^.*tick 1$/ }).waitFor({ timeout: 10000 });
  assert.equal(await page.evaluate(() => window.__noReload), true);
});

test('search narrows to the matching lines, marks the hits and counts them', async () => {
  for (const n of [2, 3, 4]) await viaIngress(`/tick?n=${n}`);
  await page.locator('.log-row', { hasText: 'tick 4' }).waitFor({ timeout: 10000 });
  const all = await logCount();
  await page.fill('#log-search', 'tick');
  await page.locator('#log-matches[data-count="4"]').waitFor();
  assert.equal(await page.innerText('#log-matches'), '4 matches');
  assert.deepEqual(await page.locator('.log-row .log-text').allInnerTexts(),
    ['tick 1', 'tick 2', 'tick 3', 'tick 4']);
  assert.equal(await page.locator('.log-hit').count(), 4);
  await page.fill('#log-search', 'TICK 3');
  await page.locator('#log-matches[data-count="1"]').waitFor();
  assert.equal(await page.locator('.log-row').count(), 1);
  await shot(page, '22-log-search');
  await page.fill('#log-search', '');
  await page.locator('#log-matches').waitFor({ state: 'detached' });
  assert.equal(await logCount(), all, 'searching kept every line');
  assert.ok(await page.locator('.log-row').count() > 4);
});

test('Pause stops following while lines keep arriving; Resume jumps to the end', async () => {
  // Enough lines that the view scrolls.
  await viaIngress('/flood?n=100&tag=filler');
  await page.locator('.log-row', { hasText: 'filler 99' }).waitFor({ timeout: 15000 });
  assert.ok(atBottom(await scrollBox()), 'following the tail');
  await page.click('#log-pause');
  assert.equal(await page.innerText('#log-pause'), 'Resume');
  const paused = await scrollBox();
  const before = await logCount();
  await viaIngress('/flood?n=300&tag=paused');
  await until(async () => (await logCount()) >= before + 300, 15000, '300 more lines');
  const still = await scrollBox();
  assert.equal(still.top, paused.top, 'no auto-scroll while paused');
  assert.ok(still.content > paused.content, 'the new lines were kept');
  assert.equal(await page.innerText('#log-pause'), 'Resume (300 new)');
  assert.equal(await page.locator('.log-row', { hasText: 'paused 299' }).count(), 0, 'not in view');
  await page.click('#log-pause');
  await page.locator('.log-row', { hasText: 'paused 299' }).waitFor();
  assert.ok(atBottom(await scrollBox()));
  assert.equal(await page.innerText('#log-pause'), 'Pause');

  // Scrolling up (the wheel) stops following too.
  await page.hover('.log-scroll');
  await page.mouse.wheel(0, -2000);
  await until(async () => (await page.innerText('#log-pause')).startsWith('Resume'), 5000, 'Resume');
  const up = await scrollBox();
  assert.ok(!atBottom(up));
  await viaIngress('/tick?n=5');
  await until(async () => (await page.innerText('#log-pause')) === 'Resume (1 new)', 10000, '1 new');
  assert.equal((await scrollBox()).top, up.top, 'still where the person scrolled to');
});

test('Logs on a deployment shows only its output; All deployments goes back', async () => {
  await page.click('#log-pause');
  await page.locator('.deployment[data-state="live"] .deployment-logs').click();
  const id = await page.getAttribute('.deployment[data-state="live"]', 'data-deployment');
  await page.locator('#log-source', { hasText: id }).waitFor();
  await page.locator('.log-row', { hasText: 'tick 5' }).waitFor({ timeout: 10000 });
  // Its build output is there too, after the build plan's line naming the command.
  await page.fill('#log-search', 'building the app');
  await page.locator('#log-matches[data-count="2"]').waitFor();
  await page.locator('.log-row', { hasText: "# the service's build command" }).waitFor();
  await page.fill('#log-search', '');
  assert.equal(await page.locator('.deployment.selected').count(), 1);
  await page.click('#log-all');
  await page.locator('#log-source', { hasText: 'all deployments' }).waitFor();
  await page.locator('.log-row', { hasText: 'paused 299' }).waitFor({ timeout: 10000 });
});

test('100,000 lines: all held, a bounded number of rows in the DOM, the last one reachable', async () => {
  const started = Date.now();
  await viaIngress('/flood?n=100000&tag=flood');
  await page.locator('.log-row', { hasText: /flood 99999$/ }).waitFor({ timeout: 180000 });
  const arrived = Date.now() - started;
  // Everything printed before the burst plus 100,000 is over the browser's cap of 100,000.
  assert.equal(await logCount(), 100000);
  assert.match(await page.innerText('.log-dropped'), /older lines are no longer held here/);
  const inDom = await page.locator('.log-row').count();
  assert.ok(inDom < 300, `${inDom} rows in the DOM`);

  // Jumping around: each frame draws only what is in view.
  const timing = await page.evaluate(async () => {
    const el = document.querySelector('.log-scroll');
    const frames = [];
    let most = 0;
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      el.scrollTop = (i % 2 ? 0.9 - i / 200 : i / 200) * el.scrollHeight;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      frames.push(performance.now() - t0);
      most = Math.max(most, document.querySelectorAll('.log-row').length);
    }
    frames.sort((a, b) => a - b);
    return { median: frames[30], p95: frames[57], most };
  });
  assert.ok(timing.most < 300, `${timing.most} rows at most while scrolling`);
  await page.evaluate(() => { document.querySelector('.log-scroll').scrollTop = 0; });
  await page.locator('.log-row', { hasText: /flood 99999$/ }).waitFor({ state: 'detached' });
  await page.evaluate(() => {
    const el = document.querySelector('.log-scroll');
    el.scrollTop = el.scrollHeight;
  });
  await page.locator('.log-row', { hasText: /flood 99999$/ }).waitFor();
  // Search over all of them.
  const t0 = Date.now();
  await page.fill('#log-search', 'flood 9999');
  await page.locator('#log-matches[data-count="11"]').waitFor(); // 9999 and 99990–99999
  const searchMs = Date.now() - t0;
  await page.fill('#log-search', '');
  await shot(page, '23-log-100k');
  console.log(`# 100k lines: all arrived ${arrived} ms after the request; ${inDom} rows in the DOM; `
    + `scroll jump to drawn frame median ${timing.median.toFixed(1)} ms, p95 ${timing.p95.toFixed(1)} ms; `
    + `search over 100k lines ${searchMs} ms (incl. round trip)`);
});

test('Rollback serves the earlier release again; Restart, Stop and Start work end to end', async () => {
  commit('v2');
  const first = await page.getAttribute('.deployment[data-state="live"]', 'data-deployment');
  await page.click('#deploy-form button[type=submit]');
  await page.locator(`.deployment[data-state="live"]:not([data-deployment="${first}"])`)
    .waitFor({ timeout: 120000 });
  assert.equal((await viaIngress('/')).body, 'v2');
  const older = page.locator(`.deployment[data-deployment="${first}"]`);
  assert.equal(await older.getAttribute('data-state'), 'superseded');
  assert.equal(await page.locator('.deployment-rollback').count(), 1, 'only the kept earlier release');

  const t0 = Date.now();
  await older.locator('.deployment-rollback').click();
  await until(async () => (await viaIngress('/')).body === 'v1', 30000, 'v1 through the ingress');
  const rollbackMs = Date.now() - t0;
  await page.locator(`.deployment[data-deployment="${first}"][data-state="live"]`).waitFor({ timeout: 15000 });
  await shot(page, '24-rolled-back');

  // Restart: a new process (it prints "listening v1" again), still serving v1.
  await page.fill('#log-search', 'listening v1');
  const starts = Number(await page.getAttribute('#log-matches', 'data-count'));
  await page.click('#service-restart');
  await page.locator(`#log-matches[data-count="${starts + 1}"]`).waitFor({ timeout: 60000 });
  await page.locator('#service-restart:not([disabled])').waitFor();
  assert.equal((await viaIngress('/')).body, 'v1');
  await page.fill('#log-search', '');

  await page.click('#service-stop');
  await page.locator('.service-title [data-status="stopped"]').waitFor({ timeout: 60000 });
  await until(async () => (await viaIngress('/')).status !== 200, 10000, 'the ingress to stop serving');
  await page.click('#service-start');
  await page.locator('.service-title [data-status="running"]').waitFor({ timeout: 60000 });
  await until(async () => (await viaIngress('/')).body === 'v1', 30000, 'v1 again');
  console.log(`# rollback: click to v1 through the ingress ${rollbackMs} ms`);
});

test('A secret set in Environment reaches the service, shows only as "secret", and Redeploy applies it', async () => {
  const token = 'e2e-secret-4b7d1f';
  await page.locator('#env-form').scrollIntoViewIfNeeded();
  await page.fill('#env-key', 'E2E_TOKEN');
  await page.fill('#env-value', token);
  await page.click('#env-form button[type=submit]');
  const row = page.locator('#env-table tr[data-key="E2E_TOKEN"]');
  await row.waitFor({ timeout: 15000 });
  assert.match(await row.innerText(), /secret/);
  assert.match(await row.innerText(), /set .* UTC by /);
  await page.locator('#env-changed').waitFor();
  await shot(page, '25-env-changed');
  const before = await page.locator('.deployment').count();
  await page.click('#env-redeploy');
  await until(async () => (await page.locator('.deployment').count()) > before, 15000, 'a new deployment');
  await page.locator('#env-changed').waitFor({ state: 'detached', timeout: 15000 });
  await until(async () => (await viaIngress('/secret')).body === token.split('').reverse().join(''),
    120000, 'the new release to get the secret');
  // The service printed it; the log viewer shows it redacted; the page never holds the value.
  // Lines printed before the redeploy say "undefined"; the new release's say "[redacted]".
  await page.fill('#log-search', 'the token is [redacted]');
  await page.locator('#log-matches:not([data-count="0"])').waitFor({ timeout: 30000 });
  const shown = await page.locator('.log-scroll').innerText();
  assert.ok(shown.includes('the token is [redacted]'), `the line is shown redacted: ${shown.slice(0, 300)}`);
  assert.ok(!(await page.content()).includes(token), 'the secret is nowhere on the page');
  await page.reload();
  assert.ok(!(await page.content()).includes(token), 'nor in the server-rendered page');
});
