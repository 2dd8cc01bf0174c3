// Flow 14: the home dashboard counts the fleet; two inventories of one renamed-and-reinstalled
// machine show as a duplicate set, are merged from the duplicates page, and the merge is undone
// from the merge log, both computers coming back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, firstAdminSignIn, rowNames, screenshot, smallInventory } from '../lib/harness.mjs';

test('duplicates are merged from the page and the merge undone; the dashboard counts them', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    await server.inventory(smallInventory({ deviceid: 'dup-old-2024-01-01-00-00-00', name: 'dup-pc', tag: 'OLD', softwares: ['vim'] }));
    await server.inventory(smallInventory({ deviceid: 'dup-new-2024-06-01-00-00-00', name: 'DUP-PC', softwares: ['vim', 'htop'] }));
    await firstAdminSignIn(page);

    await page.goto('/');
    assert.match(await page.locator('#fig-total').innerText(), /^2\b/);
    assert.equal(await page.locator('#chart-os a').count(), 1);
    await screenshot(page, '14-dashboard');

    await page.locator('#nav-duplicates').click();
    const set = page.locator('section.duplicate-set');
    await set.waitFor();
    assert.equal(await set.locator('tbody tr').count(), 2);
    assert.equal(await set.locator('td.match').count(), 2);
    await screenshot(page, '14-duplicates');
    await set.locator('button.merge').click();
    assert.match(await page.locator('.flash-ok').innerText(), /Merged 2 computers/);
    await page.locator('#no-duplicates').waitFor();
    await page.goto('/computers');
    assert.equal((await rowNames(page)).length, 1);

    await page.goto('/duplicates');
    await page.locator('#nav-merge-log').click();
    const line = page.locator('table#merge-log tbody tr');
    await line.waitFor();
    assert.match(await line.innerText(), /by hand \(hostname\)/);
    await screenshot(page, '14-merge-log');
    await line.locator('button.undo').click();
    assert.match(await page.locator('.flash-ok').innerText(), /Merge undone: 2 computers are back/);
    assert.match(await page.locator('table#merge-log tbody tr').innerText(), /undone/);
    await page.goto('/computers');
    assert.deepEqual((await rowNames(page)).sort(), ['DUP-PC', 'dup-pc']);
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
