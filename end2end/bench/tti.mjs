// Time to interactive of a service page on a cold load: Chromium on loopback with the CPU
// throttled 4x (DevTools' Emulation.setCPUThrottlingRate), a fresh browser each run (empty HTTP
// and code caches). "Interactive" is when the app has hydrated (data-hydrated on <html>).
//
// node bench/tti.mjs [runs] [pkg-dir ...]: each pkg dir (frontend.js, the split loader and the
// .wasm chunks) is served instead of the embedded bundle, so bundles built from the same app code
// compare in one run against one server; "embedded" is the bundle dployr-server was built with.
// Each line also gives the WASM the page fetched: how many modules, raw bytes, and bytes on the
// wire (the server gzips).
import { startBase, startBrowser, signUpFirst, until, servePkgFrom } from '../tests/harness.mjs';

const runs = Number(process.argv[2] || 5);
const bundles = ['embedded', ...process.argv.slice(3)];
const base = await startBase();
const setup = await startBrowser();
const page = await (await setup.browser.newContext()).newPage();
await signUpFirst(page, base.url);
const cluster = page.url().match(/cl_[0-9a-z]+/)[0];
const headers = { Origin: base.url };
const inst = await page.request.post(`${base.url}/api/v1/clusters/${cluster}/instances`, { headers, data: { name: 'web-1' } });
const instance = (await inst.json()).instance.id;
const made = await page.request.post(`${base.url}/api/v1/clusters/${cluster}/services`, {
  headers, data: { name: 'api', instance_id: instance, source: { git: { url: 'https://example.com/a.git' } } },
});
const url = `${base.url}/c/${cluster}/services/${(await made.json()).id}`;
const state = await page.context().storageState();
await setup.stop();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const bundle of bundles) {
  const times = [];
  let wasm = '';
  for (let i = 0; i < runs; i++) {
    const chrome = await startBrowser();
    const context = await chrome.browser.newContext({ storageState: state });
    if (bundle !== 'embedded') await servePkgFrom(context, bundle);
    // Notes the moment the app marks <html> hydrated, in the page's own clock.
    await context.addInitScript(() => {
      new MutationObserver((_, o) => {
        if (document.documentElement?.dataset.hydrated) { window.__tti = performance.now(); o.disconnect(); }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
    });
    const p = await context.newPage();
    const fetched = [];
    p.on('requestfinished', (request) => {
      if (new URL(request.url()).pathname.endsWith('.wasm')) fetched.push(request);
    });
    const cdp = await context.newCDPSession(p);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await p.goto(url, { waitUntil: 'commit' });
    await until(() => p.$('html[data-hydrated="true"]'), 60000, 'hydration');
    times.push(await p.evaluate(() => window.__tti));
    if (i === 0) {
      let raw = 0;
      let wire = 0;
      for (const request of fetched) {
        raw += (await (await request.response()).body()).length;
        wire += (await request.sizes()).responseBodySize;
      }
      wasm = `${fetched.length} wasm modules, ${(raw / 1000).toFixed(0)} KB raw, ${(wire / 1000).toFixed(0)} KB on the wire`;
    }
    await chrome.stop();
  }
  console.log(`${bundle}: time to interactive median ${median(times).toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')}); ${wasm}`);
}
await base.stop();
process.exit(0);
