// Every page of the dashboard, full-loaded again and again: the route table is read from
// app/src/lib.rs (so a new page is covered without touching this file), its parameters are filled
// with a real cluster, service (deployed, so it has deployments and logs), instance (a real
// dployrd) and invitation, and each route is loaded LOADS times by a signed-in Owner and by a
// Guest. A load counts when the page hydrated and then stayed quiet; the harness fails the test on
// any page error or console error, so one hydration mismatch in hundreds of loads fails it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBase, startBrowser, signUpFirst, settled, until, here } from './harness.mjs';

const LOADS = Number(process.env.DPLOYR_ROUTE_LOADS || 20);

let base;
let chrome;
let owner;
let guest;
let repo;
const params = {};

/** The paths of app/src/lib.rs's route table, e.g. `/c/:cluster/services/:service`. */
function routeTable() {
  const source = readFileSync(join(here, '..', '..', 'app', 'src', 'lib.rs'), 'utf8');
  const paths = [...source.matchAll(/path!\("([^"]*)"\)/g)].map((m) => m[1]).filter((p) => p !== '');
  assert.ok(paths.length >= 10, `only ${paths.length} routes found in app/src/lib.rs`);
  return paths;
}

function fill(path) {
  return path.replace(/:([a-z_]+)/g, (_, name) => {
    assert.ok(params[name], `no value for the route parameter :${name} of ${path}: give it one in routes.test.mjs`);
    return params[name];
  });
}

function git(...args) {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo });
}

before(async () => {
  base = await startBase({ localAgent: true });
  chrome = await startBrowser();
  owner = await (await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  repo = mkdtempSync(join(tmpdir(), 'dployr-e2e-routes-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'package.json'), '{"name":"r","version":"1.0.0","scripts":{"start":"node server.js"}}');
  writeFileSync(join(repo, 'server.js'),
    "console.log('listening');\nrequire('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');\n");
  git('add', '-A');
  git('commit', '-q', '-m', 'v1');

  await signUpFirst(owner, base.url);
  const api = (path) => `${base.url}/api/v1${path}`;
  const headers = { Origin: base.url };
  params.cluster = owner.url().match(/cl_[0-9a-z]+/)[0];
  params.instance = await until(async () => {
    const text = await (await owner.request.get(api(`/clusters/${params.cluster}/instances`))).text();
    return text.includes('"online"') && text.match(/ins_[0-9a-z]+/)[0];
  }, 60000, 'the local dployrd to come online');
  const made = await owner.request.post(api(`/clusters/${params.cluster}/services`), {
    headers,
    data: { name: 'web', instance_id: params.instance, source: { git: { url: `file://${repo}` } }, runtime: 'node' },
  });
  assert.equal(made.status(), 201, await made.text());
  params.service = (await made.json()).id;
  const env = await owner.request.put(api(`/services/${params.service}/env/GREETING`),
    { headers, data: { value: 'hello', secret: false } });
  assert.ok(env.ok(), await env.text());
  const dep = await owner.request.post(api(`/services/${params.service}/deployments`), { headers, data: {} });
  const depId = (await dep.json()).deployment.id;
  await until(async () => {
    const d = await (await owner.request.get(api(`/deployments/${depId}`))).json();
    if (['failed', 'timed_out', 'cancelled'].includes(d.state)) throw new Error(JSON.stringify(d));
    return d.state === 'live';
  }, 120000, 'the deployment to go live');

  const invite = async (email, role) => {
    const r = await owner.request.post(api(`/clusters/${params.cluster}/invites`), { headers, data: { email, role } });
    assert.equal(r.status(), 201, await r.text());
    return (await r.json()).invite_url.split('/').pop();
  };
  // The Guest signs up through an invitation (the answer sets the session cookie in its context).
  const guestContext = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const joined = await guestContext.request.post(api(`/invites/${await invite('gil@example.com', 'guest')}/accept`), {
    headers, data: { email: 'gil@example.com', password: 'correct horse battery', name: 'Gil Guest' },
  });
  assert.equal(joined.status(), 201, await joined.text());
  guest = await guestContext.newPage();
  // An open invitation for /invite/:token.
  params.token = await invite('pat@example.com', 'member');
});

after(async () => {
  await chrome?.stop();
  await base?.stop();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

/** Full-loads every route LOADS times in `page`; returns how many loads it made. */
async function loadEveryRoute(page, who) {
  let loads = 0;
  for (const route of routeTable()) {
    const url = `${base.url}${fill(route)}`;
    const started = Date.now();
    for (let i = 1; i <= LOADS; i++) {
      await page.goto(url);
      await settled(page, `${who}: ${route} (load ${i})`);
      loads++;
    }
    console.log(`# ${who}: ${route}: ${LOADS} loads in ${Date.now() - started} ms`);
  }
  return loads;
}

test(`every route full-loads ${LOADS} times for an Owner and a Guest without a page error`, async () => {
  const [a, b] = await Promise.all([loadEveryRoute(owner, 'Owner'), loadEveryRoute(guest, 'Guest')]);
  const routes = routeTable().length;
  assert.equal(a + b, 2 * routes * LOADS);
  console.log(`# ${a + b} full loads of ${routes} routes, no page error`);
});

test('the sidebar column runs the whole height of a page longer than the window', async () => {
  await owner.setViewportSize({ width: 1280, height: 500 });
  await owner.goto(`${base.url}${fill('/c/:cluster/services/:service')}`);
  await settled(owner, 'the service page in a short window');
  const m = await owner.evaluate(() => {
    const box = (s) => document.querySelector(s).getBoundingClientRect();
    return { page: document.documentElement.scrollHeight, layout: box('.layout').bottom, sidebar: box('.sidebar').bottom };
  });
  assert.ok(m.page > 1000, `the page is long (${m.page} px)`);
  assert.equal(m.sidebar, m.layout, 'the sidebar ends where the layout ends');
  await owner.setViewportSize({ width: 1280, height: 900 });
});
