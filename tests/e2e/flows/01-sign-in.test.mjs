// Flow 1: the first sign-in as admin/admin forces a password change; after it the console
// opens, and the old password no longer works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, ADMIN_PASSWORD, firstAdminSignIn, screenshot, signIn, signOut, submitLogin } from '../lib/harness.mjs';

test('first sign-in as admin/admin forces a password change', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page } = flow;
    // Any console page sends an anonymous visitor to the sign-in form.
    await page.goto('/computers');
    await page.waitForURL(/\/login$/);

    // A wrong password is refused with a message; the 401 is logged by Chromium.
    flow.allowConsole(/status of 401/);
    await submitLogin(page, 'admin', 'not-the-password');
    await page.locator('.flash-error').waitFor();
    assert.match(await page.locator('.flash-error').innerText(), /wrong login or password/i);

    // The change is confirmed on the first page after it, the home dashboard.
    assert.match(await firstAdminSignIn(page, { shots: true }), /password changed/i);
    // Signed in: the nav and the account name are there.
    assert.equal(await page.locator('header.top #account-link').innerText(), 'admin');
    assert.equal(await page.locator('header.top nav a[href="/admin/options"]').count(), 1);

    await signOut(page);
    // The old password is gone; the new one works.
    await submitLogin(page, 'admin', 'admin');
    await page.locator('.flash-error').waitFor();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.locator('#dashboard').waitFor();
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
