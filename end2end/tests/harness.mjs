// Starts a real dployr-server on a free port with a fresh data dir, and Debian's Chromium through
// playwright-core (flags from shared/TOOLCHAIN.md). Everything is torn down by stop().
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
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

export async function startBase() {
  const bin = process.env.DPLOYR_SERVER_BIN;
  if (!bin) throw new Error('set DPLOYR_SERVER_BIN to the dployr-server binary (.ci/test does)');
  const dataDir = mkdtempSync(join(tmpdir(), 'dployr-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = [];
  const child = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--gateway-listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { ...process.env, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => logs.push(String(d)));
  child.stderr.on('data', (d) => logs.push(String(d)));
  await waitHealthy(url, child);
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, stop, logs };
}

export async function startBrowser() {
  // playwright-core gives every launch a fresh, empty profile (what --user-data-dir would do).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  mkdirSync(screenshotDir, { recursive: true });
  const stop = async () => {
    await browser.close();
  };
  return { browser, stop };
}

/** Waits until the WASM bundle has hydrated the page (the app sets data-hydrated on <html>). */
export async function hydrated(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 30000 });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}
