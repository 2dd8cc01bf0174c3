// Flow 9: deleting computers. One from its page (Delete, confirmation, gone from the list,
// in the deleted computers log), then the inactive ones from the cleaning page: a preview
// with the count and the longest unseen, then the deletion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Flow, TEST_TIMEOUT, computerIdByName, firstAdminSignIn, rowNames, screenshot, settled, smallInventory } from '../lib/harness.mjs';

const DAY = 86_400;

/**
 * Makes computers look unseen for `days` days. Only the clock can do that through the
 * server, so the test edits its SQLite file (with the sqlite3 shell) as a fixture step.
 */
function age(server, names, days) {
  const then = Math.floor(Date.now() / 1000) - days * DAY;
  const list = names.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ');
  execFileSync('sqlite3', [
    join(server.dataDir, 'ocs.db'),
    `PRAGMA busy_timeout = 5000; UPDATE hardware SET lastcome = ${then}, lastdate = ${then} WHERE name IN (${list});`,
  ]);
}

test('a computer is deleted from its page and inactive computers are cleaned after a preview', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    for (const name of ['keep-me', 'delete-me', 'old-one', 'old-two']) {
      await server.inventory(smallInventory({ deviceid: `${name}-2024-01-01-00-00-00`, name }));
    }
    await firstAdminSignIn(page);

    // From the computer page: Delete, confirm, back on the list without it.
    const id = await computerIdByName(page, 'delete-me');
    await page.goto(`/computers/${id}`);
    await page.locator('#delete-computer').click();
    await page.locator('#delete-form').waitFor();
    await settled(page);
    assert.match(await page.locator('#delete-target').innerText(), /delete-me-2024-01-01-00-00-00/);
    await screenshot(page, '09-delete-confirm');
    await page.locator('#delete-confirm').click();
    await page.locator('.flash-ok').waitFor();
    await settled(page);
    assert.match(await page.locator('.flash-ok').innerText(), /delete-me deleted/);
    assert.deepEqual((await rowNames(page)).sort(), ['keep-me', 'old-one', 'old-two']);
    flow.allowConsole(/status of 404/);
    const gone = await page.goto(`/computers/${id}`);
    assert.equal(gone.status(), 404);

    // The log.
    await page.goto('/computers');
    await page.locator('header.top nav a[href="/admin/deleted"]').click();
    await page.locator('table#deleted-computers').waitFor();
    const line = page.locator(`table#deleted-computers tr[data-deleted="${id}"]`);
    assert.match(await line.innerText(), /delete-me[\s\S]*admin[\s\S]*Deleted by hand/);
    await screenshot(page, '09-deleted-log');

    // Cleaning: two computers unseen for 100 days; the preview counts them, then they go.
    age(server, ['old-one', 'old-two'], 100);
    await page.locator('header.top nav a[href="/admin/inactive"]').click();
    await page.locator('#inactive-preview-form').waitFor();
    await page.locator('#inactive-days').fill('90');
    await page.locator('#inactive-preview').click();
    await page.locator('#inactive-count').waitFor();
    await settled(page);
    assert.equal(await page.locator('#inactive-count').getAttribute('data-count'), '2');
    assert.deepEqual(
      (await page.locator('#inactive-sample tbody tr td:first-child').allInnerTexts()).sort(),
      ['old-one', 'old-two'],
    );
    await screenshot(page, '09-inactive-preview');
    await page.locator('#inactive-clean').click();
    await page.locator('.flash-ok').waitFor();
    await settled(page);
    assert.match(await page.locator('.flash-ok').innerText(), /2 computers not seen for 90 days deleted/);
    assert.equal(await page.locator('#inactive-count').getAttribute('data-count'), '0');
    await screenshot(page, '09-inactive-cleaned');
    await page.goto('/computers');
    assert.deepEqual(await rowNames(page), ['keep-me']);
    await page.goto('/admin/deleted');
    assert.equal(await page.locator('table#deleted-computers tbody tr').count(), 3);
    assert.equal(await page.locator('table#deleted-computers td.reason', { hasText: 'Not seen for 90 days' }).count(), 2);
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
