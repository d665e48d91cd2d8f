// Metrics charts (issue 19) against a real dployrd (Base's --local-agent) running a real Node
// service: the service page draws CPU, memory, restarts and the requests sent through the
// ingress (by status class, and their latency) from the stored series (the drawn
// points and the latest value agree with what REST returns), then a new point appears without a
// reload; the Instances page shows each server's headroom and its host charts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import {
  deployLocalService, gotoHydrated, nodeRepo, shot, signUpFirst, startBase, startBrowser, until,
} from './harness.mjs';

let base;
let chrome;
let page;
let repo;
let cluster;
let serviceId;

const api = async (path) => {
  const r = await page.request.get(`${base.url}/api/v1${path}`);
  assert.equal(r.status(), 200, await r.text());
  return r.json();
};

/** "12.3 MB" → 12300000 (the chart's decimal units). */
function bytesOf(text) {
  const m = text.match(/^([\d.]+) (B|kB|MB|GB|TB)$/);
  assert.ok(m, `a byte figure: ${text}`);
  return Number(m[1]) * 1000 ** ['B', 'kB', 'MB', 'GB', 'TB'].indexOf(m[2]);
}

/** The drawn line of chart `id`: its point count and its path's vertices. */
const line = (id) => page.locator(`[data-chart="${id}"] path.chart-line-0`).evaluate((el) => ({
  points: Number(el.dataset.points),
  vertices: (el.getAttribute('d').match(/[ML]/g) || []).length,
  ys: [...el.getAttribute('d').matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => Number(m[2])),
}));

/** GET `path` through dployrd's ingress as `metered.localhost`; resolves to the status. */
function viaIngress(path) {
  const [host, port] = base.ingress.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers: { Host: 'metered.localhost' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  base = await startBase({ localAgent: true });
  chrome = await startBrowser();
  page = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  // Holds ~20 MB so its memory is plainly not zero.
  repo = nodeRepo('dployr-e2e-metrics-', `
const keep = Buffer.alloc(20 * 1024 * 1024, 7);
require('http').createServer((q, s) => s.end('ok ' + keep[0])).listen(process.env.PORT, '127.0.0.1');
`);
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

test('a deployed service has stored metrics', async () => {
  await signUpFirst(page, base.url);
  ({ cluster, service: serviceId } = await deployLocalService(page, base.url, repo, 'metered'));
  // dployrd reports every 10 s: two points with memory within half a minute.
  await until(async () => (await api(`/services/${serviceId}/metrics?since=1h`)).points
    .filter((p) => p.mem_bytes > 0).length >= 2, 45000, 'two stored points with memory');
  // 30 requests through the ingress: counted per service and stored with the next frame.
  for (let i = 0; i < 30; i += 1) assert.equal(await viaIngress(`/r${i}`), 200);
  const served = async () => (await api(`/services/${serviceId}/metrics?since=1h`)).points
    .reduce((n, p) => n + (p.requests?.status_2xx ?? 0), 0);
  await until(async () => (await served()) >= 30, 30000, '30 requests in the stored series');
});

test('the service page draws its CPU, memory and restarts from the stored series', async () => {
  await gotoHydrated(page, `${base.url}/c/${cluster}/services/${serviceId}`,
    '#service-metrics [data-chart="memory"] path.chart-line-0');
  const stored = await api(`/services/${serviceId}/metrics?since=1h&step=10`);
  const drawn = await line('memory');
  // The page fetched just before REST did: at most one point behind.
  assert.ok(drawn.points >= 2 && drawn.points <= stored.points.length
    && drawn.points >= stored.points.length - 1, `${drawn.points} drawn, ${stored.points.length} stored`);
  assert.ok(drawn.vertices >= drawn.points, 'every point is a vertex of the line');
  // The value axis tops out at a round number at most twice the largest value, so the highest
  // point is drawn in the upper half of the plot (y from 8 at the top to 104 at the axis).
  assert.ok(Math.min(...drawn.ys) <= 56.5, `the highest point is in the upper half: ${drawn.ys}`);
  const latest = await page.getAttribute('[data-chart="memory"] .chart-latest', 'data-latest');
  const shown = bytesOf(latest);
  const mems = stored.points.map((p) => p.mem_bytes).filter((m) => m > 0);
  assert.ok(mems.some((m) => Math.abs(m - shown) <= m * 0.01), `${latest} is one of ${mems}`);
  assert.ok(shown >= 20e6, `the 20 MB the service holds show: ${latest}`);
  const label = await page.getAttribute('[data-chart="memory"] svg', 'aria-label');
  assert.equal(label, `Memory, latest: Memory ${latest}`);
  assert.equal(await page.getAttribute('[data-chart="memory"] svg', 'role'), 'img');
  // CPU in percent, restarts a count (none yet).
  assert.match(await page.getAttribute('[data-chart="cpu"] .chart-latest', 'data-latest'), /^[\d.]+ %$/);
  assert.equal(await page.getAttribute('[data-chart="restarts"] .chart-latest', 'data-latest'), '0');
  assert.ok((await line('cpu')).points >= 1);
  // The ingress's requests by status class and their latency.
  const keys = await page.locator('[data-chart="requests"] .chart-key').allTextContents();
  assert.deepEqual(keys.map((k) => k.split(':')[0]), ['2xx', '3xx', '4xx', '5xx']);
  assert.ok((await line('requests')).points >= 1, 'the 2xx line has points');
  // The axis's top (its third label) is a count of at least one request.
  const top = await page.locator('[data-chart="requests"] text.chart-axis').nth(2).textContent();
  assert.ok(Number(top) >= 1, `the requests axis tops at ${top}`);
  assert.match(await page.getAttribute('[data-chart="latency"] .chart-latest', 'data-latest'),
    /^[\d.]+ m?s$/);
  await shot(page, 'metrics-service');
});

test('the charts take new points without a reload', async () => {
  await page.evaluate(() => { window.__noReload = true; });
  const before = (await line('memory')).points;
  await until(async () => (await line('memory')).points > before, 40000, 'a new point on the memory chart');
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  // The day's range asks for 1-minute points (none rolled up yet is fine: the switch answers).
  await page.click('#service-metrics [data-range="day"]');
  await until(async () => (await page.getAttribute('#service-metrics .chart-row', 'data-step')) === '60',
    15000, 'the day range at 1-minute steps');
  assert.equal(await page.getAttribute('#service-metrics [data-range="day"]', 'aria-pressed'), 'true');
});

test('the Instances page shows each server\'s headroom and its host charts', async () => {
  await gotoHydrated(page, `${base.url}/c/${cluster}/instances`, '.headroom-row .meter[data-value]');
  const cpu = Number(await page.getAttribute('.headroom-row .meter[aria-label="CPU"]', 'data-value'));
  const mem = Number(await page.getAttribute('.headroom-row .meter[aria-label="Memory"]', 'data-value'));
  const disk = Number(await page.getAttribute('.headroom-row .meter[aria-label="Disk"]', 'data-value'));
  for (const v of [cpu, mem, disk]) assert.ok(v >= 0 && v <= 100, `a share: ${v}`);
  assert.ok(mem > 0 && disk > 0, `a running machine uses memory and disk: ${mem}, ${disk}`);
  await page.click('.headroom-row a:has-text("Charts")');
  await page.waitForURL(/\?instance=ins_/);
  const host = page.locator('#instance-metrics [data-chart="host-memory"] path.chart-line-0');
  await host.waitFor({ timeout: 15000 });
  assert.ok(Number(await host.getAttribute('data-points')) >= 2);
  assert.match(await page.getAttribute('#instance-metrics [data-chart="host-network"] .chart-legend', 'class'), /chart-legend/);
  assert.equal(await page.locator('#instance-metrics [data-chart="host-network"] .chart-key').count(), 2);
  await shot(page, 'metrics-instances');
});
