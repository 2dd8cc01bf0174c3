// Shared plumbing of the browser tests: a throwaway ocs-server per flow, a headless Chromium
// page that fails the test on JavaScript errors and Content-Security-Policy violations,
// agent-side requests (inventories, PROLOG), sign-in helpers and screenshots.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SERVER_BIN = resolve(REPO_ROOT, process.env.OCS_SERVER_BIN || 'target/debug/ocs-server');
export const FIXTURES_DIR = resolve(
  REPO_ROOT,
  process.env.OCS_FIXTURES_DIR || '../shared/fixtures/real-agent',
);
export const SCREENSHOT_DIR = join(REPO_ROOT, 'target', 'e2e-screenshots');
export const CHROMIUM = process.env.OCS_E2E_CHROMIUM || '/usr/bin/chromium';

/** Longest a flow may take (generous: CI machines are slow, a hung browser must not hang CI). */
export const TEST_TIMEOUT = 150_000;

/** Password the default admin account is given by the first sign-in. */
export const ADMIN_PASSWORD = 'admin-password-e2e';

const AGENT_UA = 'OCS-NG_unified_unix_agent_v2.10.0';

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

function serverEnv() {
  const env = { ...process.env, OCS_LOG__LEVEL: 'info' };
  delete env.RUST_LOG;
  return env;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A running ocs-server on a fresh data directory. */
export class Server {
  static async start() {
    assert.ok(existsSync(SERVER_BIN), `server binary not found at ${SERVER_BIN} (build it or set OCS_SERVER_BIN)`);
    const dataDir = mkdtempSync(join(tmpdir(), 'ocs-e2e-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(
      SERVER_BIN,
      ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`, '--tls-listen', '127.0.0.1:0'],
      {
        env: serverEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const server = new Server(child, dataDir, base);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (server.exited) {
        throw new Error(`ocs-server exited (${child.exitCode}):\n${server.log}`);
      }
      try {
        const r = await fetch(`${base}/healthz`);
        if (r.status === 200) return server;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    await server.stop();
    throw new Error(`ocs-server did not answer /healthz within 30 s:\n${server.log}`);
  }

  constructor(child, dataDir, base) {
    this.child = child;
    this.dataDir = dataDir;
    this.base = base;
    this.log = '';
    this.exited = false;
    child.stdout.on('data', (d) => { this.log += d; });
    child.stderr.on('data', (d) => { this.log += d; });
    child.on('exit', () => { this.exited = true; });
  }

  async stop() {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** POSTs an XML document to the agent endpoint the way the unified agent does. */
  async agent(xml) {
    const r = await fetch(`${this.base}/ocsinventory`, {
      method: 'POST',
      headers: { 'User-Agent': AGENT_UA, 'Content-Type': 'application/x-compressed' },
      body: deflateSync(Buffer.from(xml, 'utf8')),
    });
    const raw = Buffer.from(await r.arrayBuffer());
    let text = '';
    if (raw.length) {
      try {
        text = inflateSync(raw).toString('utf8');
      } catch {
        text = raw.toString('utf8');
      }
    }
    return { status: r.status, text };
  }

  /** Sends an inventory; fails the test unless the server accepts it. */
  async inventory(xml) {
    const r = await this.agent(xml);
    assert.equal(r.status, 200, `inventory refused (${r.status}): ${r.text}\n${this.log}`);
    return r;
  }

  /** Sends a PROLOG for `deviceid` and returns the (inflated) reply text. */
  async prolog(deviceid) {
    const r = await this.agent(
      `<?xml version="1.0" encoding="UTF-8"?><REQUEST><DEVICEID>${deviceid}</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>`,
    );
    assert.equal(r.status, 200, `PROLOG refused (${r.status}): ${r.text}`);
    return r.text;
  }

  /** Imports the real agent capture; returns its DEVICEID. */
  async importRealAgent() {
    const xml = readFileSync(join(FIXTURES_DIR, 'ocs-agent', '02-INVENTORY-request.xml'), 'utf8');
    await this.inventory(xml);
    return xml.match(/<DEVICEID>([^<]*)<\/DEVICEID>/)[1];
  }
}

/** Escapes text for an XML element. */
export function xmlText(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An INVENTORY request around `content` (already XML). */
export function inventoryXml(deviceid, content) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>\n<CONTENT>${content}</CONTENT>\n<DEVICEID>${deviceid}</DEVICEID>\n<QUERY>INVENTORY</QUERY>\n</REQUEST>\n`;
}

/** A small inventory: name, OS, memory, TAG and software names (plain text, escaped here). */
export function smallInventory({ deviceid, name, os = 'Debian GNU/Linux', memory = 2048, tag, softwares = [] }) {
  let content = `<HARDWARE><NAME>${xmlText(name)}</NAME><OSNAME>${xmlText(os)}</OSNAME><MEMORY>${memory}</MEMORY></HARDWARE>`;
  if (tag !== undefined) {
    content += `<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>${xmlText(tag)}</KEYVALUE></ACCOUNTINFO>`;
  }
  for (const s of softwares) {
    content += `<SOFTWARES><NAME>${xmlText(s)}</NAME><VERSION>1.0</VERSION></SOFTWARES>`;
  }
  return inventoryXml(deviceid, content);
}

/**
 * One browser flow: a server, a Chromium and a page whose JavaScript errors, console errors
 * and CSP violations are recorded; `finish()` asserts none happened (save those declared
 * expected with `allowConsole`).
 */
export class Flow {
  static async start() {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    const server = await Server.start();
    let browser;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--disable-dev-shm-usage',
        ],
      });
    } catch (e) {
      await server.stop();
      throw e;
    }
    const flow = new Flow(server, browser);
    await flow.newPage();
    return flow;
  }

  constructor(server, browser) {
    this.server = server;
    this.browser = browser;
    this.problems = [];
    // The server has no /favicon.ico (yet): the browser's automatic request 404s.
    this.allowed = [/status of 404 .*\/favicon\.ico\]$/];
    this.contexts = [];
  }

  /** Opens a page in a new browser context (its own cookies); it becomes `this.page`. */
  async newPage() {
    const context = await this.browser.newContext({
      baseURL: this.server.base,
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
    });
    context.setDefaultTimeout(10_000);
    this.contexts.push(context);
    const page = await context.newPage();
    // Report CSP violations loudly even where Chromium would only warn.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    page.on('pageerror', (err) => this.problems.push(`page error on ${page.url()}: ${err.message}`));
    page.on('console', (msg) => {
      const where = msg.location()?.url;
      const text = where && where !== page.url() ? `${msg.text()} [${where}]` : msg.text();
      const csp = /Content Security Policy|CSP violation/i.test(text);
      if (msg.type() !== 'error' && !csp) return;
      if (!csp && this.allowed.some((re) => re.test(text))) return;
      this.problems.push(`console ${msg.type()} on ${page.url()}: ${text}`);
    });
    this.page = page;
    return page;
  }

  /** Lets console errors matching `re` pass (never CSP violations). */
  allowConsole(re) {
    this.allowed.push(re);
  }

  get base() {
    return this.server.base;
  }

  /** Fails on anything recorded so far. */
  assertClean() {
    assert.deepEqual(this.problems, [], 'JavaScript errors or CSP violations in the browser');
  }

  async finish() {
    try {
      for (const c of this.contexts) await c.close().catch(() => {});
      await this.browser.close().catch(() => {});
    } finally {
      await this.server.stop();
    }
  }
}

/**
 * Saves a full-page screenshot as target/e2e-screenshots/<name>.png. Very long pages (the
 * "show everything" view of a real machine is ~50 000 px tall) are cut at MAX_SHOT_HEIGHT:
 * capturing all of it takes ~20 s and the picture is useless anyway.
 */
const MAX_SHOT_HEIGHT = 8000;
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const { width, height } = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
  }));
  // caret: 'initial' — hiding the caret makes Playwright leave `style=""` on every input,
  // which htmx's settle step then copies onto the swapped-in elements: a (spurious) CSP
  // violation under style-src 'self'.
  const options = {
    path: join(SCREENSHOT_DIR, `${name}.png`),
    fullPage: true,
    caret: 'initial',
    timeout: 60_000,
  };
  if (height > MAX_SHOT_HEIGHT) options.clip = { x: 0, y: 0, width, height: MAX_SHOT_HEIGHT };
  await page.screenshot(options);
}

/** Waits until htmx has settled (no request in flight, content swapped). */
export async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling'));
}

/** Fills and submits the sign-in form; waits for the next page. */
export async function submitLogin(page, login, password) {
  await page.goto('/login');
  await page.locator('#login-form input[name=login]').fill(login);
  await page.locator('#login-form input[name=password]').fill(password);
  await Promise.all([page.waitForNavigation(), page.locator('#login-submit').click()]);
}

/** First sign-in of admin/admin and the forced password change. Ends on /computers; returns the
 * confirmation the dashboard showed after the change. */
export async function firstAdminSignIn(page, { shots = false } = {}) {
  await page.goto('/');
  await page.waitForURL(/\/login$/);
  if (shots) await screenshot(page, '01-login');
  await page.locator('#login-form input[name=login]').fill('admin');
  await page.locator('#login-form input[name=password]').fill('admin');
  await Promise.all([page.waitForURL(/\/account\/password$/), page.locator('#login-submit').click()]);
  await page.locator('#password-form').waitFor();
  assert.equal(await page.locator('#password-forced').count(), 1, 'the forced-change notice is shown');
  if (shots) await screenshot(page, '01-password-change');
  await page.locator('input[name=current]').fill('admin');
  await page.locator('input[name=new]').fill(ADMIN_PASSWORD);
  await page.locator('input[name=confirm]').fill(ADMIN_PASSWORD);
  // The first page after sign-in is the home dashboard; the flows go on from the list.
  await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.locator('#password-submit').click()]);
  await page.locator('#dashboard').waitFor();
  if (shots) await screenshot(page, '01-dashboard');
  const flash = await page.locator('.flash-ok').innerText();
  await page.goto('/computers');
  await page.locator('table#computers').waitFor();
  return flash;
}

/** Signs in with an already set password. */
export async function signIn(page, login, password) {
  await submitLogin(page, login, password);
  assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/, `sign-in of ${login} failed`);
}

/** Signs out through the header button. */
export async function signOut(page) {
  await Promise.all([page.waitForURL(/\/login$/), page.locator('#logout').click()]);
}

/** The page's id for a computer, read from the list (by the text of its name link). */
export async function computerIdByName(page, name) {
  await page.goto('/computers?per_page=500');
  const link = page.locator('table#computers tbody tr td a', { hasText: name }).first();
  const href = await link.getAttribute('href');
  return Number(href.match(/\/computers\/(\d+)/)[1]);
}

/** Keys of the columns of table#computers, in order. */
export async function columnKeys(page) {
  return page.locator('table#computers thead th[data-col]').evaluateAll((ths) => ths.map((th) => th.dataset.col));
}

/** Text of the first column's links of table#computers (after the selection box), in order. */
export async function rowNames(page) {
  return page.locator('table#computers tbody tr td.select + td a').allInnerTexts();
}
