// Flow 6: an account with the User role can look but not change anything: no admin links,
// no save buttons, disabled fields, 403 on admin pages and on forged POSTs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Flow, TEST_TIMEOUT, computerIdByName, firstAdminSignIn, screenshot, settled, signOut, smallInventory, submitLogin,
} from '../lib/harness.mjs';

const VIEWER = 'viewer';
const VIEWER_PASSWORD = 'viewer-password-1';
const VIEWER_NEW_PASSWORD = 'viewer-password-2';

test('a read-only user cannot change anything', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    await server.inventory(smallInventory({ deviceid: 'ro-2024-01-01-00-00-00', name: 'ro-computer', tag: 'PARIS' }));

    // The administrator creates the account on the Users page.
    await firstAdminSignIn(page);
    await page.locator('header.top nav a[href="/admin/users"]').click();
    await page.locator('#user-add').waitFor();
    await page.locator('#user-add input[name=login]').fill(VIEWER);
    await page.locator('#user-add input[name=password]').fill(VIEWER_PASSWORD);
    await page.locator('#user-add select[name=role]').selectOption('user');
    await page.locator('#user-add-submit').click();
    await page.locator(`tr[data-user=${VIEWER}]`).waitFor();
    await settled(page);
    assert.equal(await page.locator('.flash-error').count(), 0);
    assert.match(await page.locator(`tr[data-user=${VIEWER}] td.role`).innerText(), /user/i);
    await screenshot(page, '06-users');
    await signOut(page);

    // The viewer signs in (and picks a password of their own if asked to).
    await submitLogin(page, VIEWER, VIEWER_PASSWORD);
    if (new URL(page.url()).pathname === '/account/password') {
      await page.locator('input[name=current]').fill(VIEWER_PASSWORD);
      await page.locator('input[name=new]').fill(VIEWER_NEW_PASSWORD);
      await page.locator('input[name=confirm]').fill(VIEWER_NEW_PASSWORD);
      await Promise.all([page.waitForNavigation(), page.locator('#password-submit').click()]);
    }
    await page.goto('/computers');
    await page.locator('table#computers').waitFor();
    assert.equal(await page.locator('header.top #account-link').innerText(), VIEWER);
    // No admin links in the navigation.
    assert.equal(await page.locator('header.top nav a[href^="/admin"]').count(), 0);
    assert.ok(await page.locator('header.top nav a[href="/computers"]').count() === 1);

    // The computer page: no save buttons, every field disabled.
    const id = await computerIdByName(page, 'ro-computer');
    await page.goto(`/computers/${id}`);
    await page.locator('#banner').waitFor();
    assert.equal(await page.locator('#admin-data-submit').count(), 0);
    assert.equal(await page.locator('#customisation-submit').count(), 0);
    assert.equal(await page.locator('main button[type=submit]').count(), 0, 'no submit button in the page body');
    const fields = page.locator('#admin-data-form input:not([type=hidden]), #customisation-form select');
    assert.ok(await fields.count() >= 2);
    for (const f of await fields.all()) {
      assert.ok(await f.isDisabled(), `${await f.getAttribute('name')} is disabled`);
    }
    await screenshot(page, '06-read-only-computer');

    // Admin pages answer 403 (the browser logs the failed load).
    flow.allowConsole(/status of 403/);
    for (const path of ['/admin/options', '/admin/users', '/admin/import']) {
      const response = await page.goto(path);
      assert.equal(response.status(), 403, path);
      await page.locator('#error-message').waitFor();
      assert.equal(await page.locator('#options-form, #user-add, #import-form').count(), 0);
    }
    await page.goto('/admin/options');
    await screenshot(page, '06-forbidden');

    // Forged POSTs with the viewer's own valid session and CSRF token (taken from the
    // sign-out form) and a same-site Origin: refused by role, not by CSRF.
    await page.goto('/computers');
    const csrf = await page.locator('#logout-form input[name=csrf]').inputValue();
    assert.match(csrf, /^[0-9a-f]{16,}$/);
    const forged = [
      [`/computers/${id}/admin-data`, { csrf, TAG: 'HACKED' }],
      [`/computers/${id}/customisation`, { csrf, FREQUENCY: '0', IPDISCOVER: '', DOWNLOAD_SWITCH: '1' }],
      ['/admin/options', { csrf, PROLOG_FREQ: '1' }],
      ['/admin/users', { csrf, login: 'intruder', password: 'intruder-pass-1', role: 'admin' }],
    ];
    for (const [path, form] of forged) {
      const r = await page.request.post(path, { form, headers: { Origin: flow.base }, maxRedirects: 0 });
      assert.equal(r.status(), 403, `forged POST to ${path}`);
    }
    // The same token does work for what the viewer may do: their own language.
    const lang = await page.request.post('/account/language', {
      form: { csrf, language: 'en' }, headers: { Origin: flow.base }, maxRedirects: 0,
    });
    assert.equal(lang.status(), 303, 'the token was valid');

    // Nothing changed.
    await page.goto(`/computers/${id}`);
    assert.equal(await page.locator('#admin-data-form input[name=TAG]').inputValue(), 'PARIS');
    assert.equal(await page.locator('#customisation-form select[name=DOWNLOAD_SWITCH]').inputValue(), '');
    assert.match(await server.prolog('ro-2024-01-01-00-00-00'), /<PROLOG_FREQ>24<\/PROLOG_FREQ>/);
    await signOut(page);
    flow.allowConsole(/status of 401/);
    await submitLogin(page, 'intruder', 'intruder-pass-1');
    assert.match(new URL(page.url()).pathname, /^\/login/, 'the forged account does not exist');
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
