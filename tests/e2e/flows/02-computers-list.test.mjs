// Flow 2: on All computers, sort by a column, choose columns and the page size; sign out and
// back in: the sort and the columns are still there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Flow, TEST_TIMEOUT, ADMIN_PASSWORD, columnKeys, firstAdminSignIn, rowNames, screenshot, settled, signIn, signOut,
  smallInventory,
} from '../lib/harness.mjs';

test('All computers: sort, columns and page size stick to the account', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    // 12 computers with increasing memory, alternating OS.
    for (let i = 0; i < 12; i++) {
      const n = String(i).padStart(2, '0');
      await server.inventory(smallInventory({
        deviceid: `list-${n}-2024-01-01-00-00-00`,
        name: `list-${n}`,
        os: i % 2 ? 'Microsoft Windows 11' : 'Debian GNU/Linux 12',
        memory: 1024 * (i + 1),
      }));
    }
    await firstAdminSignIn(page);
    await page.goto('/computers');
    assert.match(await page.locator('#result-count').innerText(), /12/);
    const before = await columnKeys(page);
    assert.ok(before.includes('os') && before.includes('memory'), `default columns: ${before}`);
    assert.ok(!before.includes('deviceid'));

    // Sort by memory: ascending, then descending (htmx swaps the table, the URL follows).
    await page.locator('th[data-col=memory] a.sort').click();
    await page.locator('th[data-col=memory][aria-sort=ascending]').waitFor();
    await settled(page);
    assert.match(page.url(), /sort=memory/);
    assert.equal((await rowNames(page))[0], 'list-00');
    await page.locator('th[data-col=memory] a.sort').click();
    await page.locator('th[data-col=memory][aria-sort=descending]').waitFor();
    await settled(page);
    assert.equal((await rowNames(page))[0], 'list-11');

    // Columns: add DEVICEID, remove OS; 10 a page.
    await page.locator('#columns-toggle').click();
    await page.locator('#columns-form input[name=col][value=deviceid]').check();
    await page.locator('#columns-form input[name=col][value=os]').uncheck();
    await page.locator('#columns-form select[name=per_page]').selectOption('10');
    await page.locator('#columns-submit').click();
    await page.locator('th[data-col=deviceid]').waitFor();
    await settled(page);
    let cols = await columnKeys(page);
    assert.ok(cols.includes('deviceid') && !cols.includes('os'), `chosen columns: ${cols}`);
    assert.equal(await page.locator('table#computers tbody tr').count(), 10);
    assert.equal(await page.locator('#next-page').count(), 1);
    await page.locator('.flash-error').count().then((n) => assert.equal(n, 0));

    // Sign out, sign in again: the choice was saved for the account.
    await signOut(page);
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/computers');
    await page.locator('table#computers').waitFor();
    cols = await columnKeys(page);
    assert.ok(cols.includes('deviceid') && !cols.includes('os'), `columns after sign-in: ${cols}`);
    assert.equal(await page.locator('th[data-col=memory][aria-sort=descending]').count(), 1, 'the sort was kept');
    assert.equal((await rowNames(page))[0], 'list-11');
    assert.equal(await page.locator('table#computers tbody tr').count(), 10);
    assert.match(await page.locator('td[data-col=deviceid]').first().innerText(), /^list-11-2024/);

    // The next page comes through htmx.
    await page.locator('#next-page').click();
    await page.waitForURL(/page=2/);
    await settled(page);
    assert.equal(await page.locator('table#computers tbody tr').count(), 2);
    await page.goto('/computers');
    await screenshot(page, '02-computers-list');

    // The CSV export link carries the whole result.
    const csv = await page.request.get(await page.locator('#csv-export').getAttribute('href'));
    assert.equal(csv.status(), 200);
    const lines = (await csv.text()).trim().split(/\r?\n/);
    assert.equal(lines.length, 1 + 12);
    assert.match(lines[0], /DEVICEID/i);
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
