// Flow 10: rows ticked on a search result become a new static group through the mass-action
// pages (chooser, confirmation with the count, result); the group's page lists exactly them,
// and the whole result of the search is then added to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, firstAdminSignIn, rowNames, screenshot, settled, smallInventory } from '../lib/harness.mjs';

const NAMES = ['lab-1', 'lab-2', 'lab-3', 'office-1'];

test('a static group is made from a selection of a search result', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    for (const name of NAMES) {
      await server.inventory(smallInventory({ name, deviceid: `${name}-2024-01-01-00-00-00` }));
    }
    await firstAdminSignIn(page);
    await page.goto('/search?f0=name&o0=equal&v0=lab-*&sort=name&dir=asc');
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.deepEqual(await rowNames(page), ['lab-1', 'lab-2', 'lab-3']);

    // Tick two rows and act on them.
    for (const name of ['lab-1', 'lab-3']) {
      await page.locator('table#computers tbody tr', { hasText: name }).locator('input[type=checkbox]').check();
    }
    await page.locator('#mass-selected').click();
    await page.locator('#mass-count').waitFor();
    assert.match(await page.locator('#mass-count').innerText(), /2 computers/);
    const add = page.locator('#mass-group-add');
    await add.locator('select[name=group]').selectOption('new');
    await add.locator('input[name=name]').fill('Lab bench');
    await add.locator('input[name=description]').fill('picked by hand');
    await screenshot(page, '10-chooser');
    await add.locator('button[type=submit]').click();
    await page.locator('#mass-will-change').waitFor();
    assert.equal(await page.locator('#mass-will-change').innerText(), '2 computers will change.');
    await screenshot(page, '10-confirm');
    await page.locator('#mass-apply').click();
    await page.locator('#mass-changed').waitFor();
    assert.equal(await page.locator('#mass-changed').innerText(), '2 computers changed.');

    // The group exists, static, with exactly those two.
    await page.locator('header.top nav a[href="/groups"]').click();
    await page.locator('table#groups').waitFor();
    const row = page.locator('table#groups tbody tr', { hasText: 'Lab bench' });
    assert.equal(await row.locator('td[data-col=kind]').innerText(), 'Static');
    assert.equal(await row.locator('td[data-col=members]').innerText(), '2');
    await row.locator('a', { hasText: 'Lab bench' }).click();
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.deepEqual((await rowNames(page)).sort(), ['lab-1', 'lab-3']);
    const groupUrl = new URL(page.url()).pathname;

    // The whole result of the search (not only a page) joins the existing group.
    await page.goto('/search?f0=name&o0=equal&v0=lab-*&sort=name&dir=asc&per_page=10');
    await page.locator('#mass-all').waitFor();
    await page.locator('#mass-all').click();
    await page.locator('#mass-count').waitFor();
    await page.locator('#mass-group-add select[name=group]').selectOption({ label: 'Lab bench' });
    await page.locator('#mass-group-add button[type=submit]').click();
    await page.locator('#mass-will-change').waitFor();
    assert.equal(await page.locator('#mass-will-change').innerText(), '3 computers will change.');
    await page.locator('#mass-apply').click();
    await page.locator('#mass-changed').waitFor();
    await page.goto(groupUrl);
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.deepEqual((await rowNames(page)).sort(), ['lab-1', 'lab-2', 'lab-3']);
    await screenshot(page, '10-group');
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
