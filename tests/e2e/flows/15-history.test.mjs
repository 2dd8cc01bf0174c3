// Flow 15: a computer inventoried twice (software installed and removed, Debian 12 → 13) and
// its TAG edited by hand: the computer page shows its latest changes, the timeline filters
// them by section, the fleet's recent changes list them, and the dashboard shows them too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, firstAdminSignIn, inventoryXml, screenshot, settled } from '../lib/harness.mjs';

const DEVICEID = 'hist-2024-01-01-00-00-00';

function inventory({ osversion, softwares, checksum }) {
  let content = `<HARDWARE><NAME>hist-pc</NAME><OSNAME>Debian GNU/Linux</OSNAME><OSVERSION>${osversion}</OSVERSION><CHECKSUM>${checksum}</CHECKSUM></HARDWARE>`;
  for (const [name, version] of softwares) {
    content += `<SOFTWARES><NAME>${name}</NAME><VERSION>${version}</VERSION></SOFTWARES>`;
  }
  return inventoryXml(DEVICEID, content);
}

test('the timeline and the recent changes show what an inventory and an edit changed', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    await server.inventory(inventory({ osversion: '12', softwares: [['vim', '9.0'], ['nano', '7.2']], checksum: 131071 }));
    await server.inventory(inventory({ osversion: '13', softwares: [['vim', '9.1'], ['htop', '3.2']], checksum: 65537 }));
    await firstAdminSignIn(page);

    // The dashboard's latest changes.
    await page.goto('/');
    const recent = page.locator('table#recent-changes tbody tr');
    await recent.first().waitFor();
    assert.ok((await recent.count()) >= 4);
    assert.match(await page.locator('table#recent-changes').innerText(), /htop/);

    // The computer page's card, loaded by htmx, then the whole timeline.
    await page.goto('/computers');
    await page.locator('table#computers tbody td a', { hasText: 'hist-pc' }).first().click();
    await page.waitForURL(/\/computers\/\d+$/);
    const card = page.locator('#computer-history');
    await card.locator('table#changes').waitFor();
    await settled(page);
    const cardText = await card.innerText();
    assert.match(cardText, /nano/);
    assert.match(cardText, /first inventory/);
    await screenshot(page, '15-computer-history-card');

    // An edit by hand: it joins the timeline with who made it.
    await page.locator('#admin-data-form input[name=TAG]').fill('LYON');
    await page.locator('#admin-data-submit').click();
    await page.locator('.flash-ok').waitFor();
    await page.locator('#computer-history table#changes').waitFor();
    await settled(page);
    await page.locator('#full-timeline').click();
    await page.waitForURL(/\/history$/);
    const rows = page.locator('table#changes tbody tr');
    await rows.first().waitFor();
    const tagRow = rows.filter({ hasText: 'LYON' });
    assert.equal(await tagRow.count(), 1);
    assert.match(await tagRow.innerText(), /admin/);

    // Filtered to software: the upgrade, the installation and the removal.
    await page.locator('#filter-section').selectOption('SOFTWARES');
    await page.locator('#timeline-filter-submit').click();
    await page.waitForURL(/section=SOFTWARES/);
    await settled(page);
    assert.equal(await rows.count(), 3);
    const vim = rows.filter({ hasText: 'vim' });
    assert.equal(await vim.locator('del').innerText(), '9.0');
    assert.equal(await vim.locator('ins').innerText(), '9.1');
    assert.equal(await rows.filter({ hasText: 'htop' }).locator('[data-action=added], .badge.added').count(), 1);
    assert.equal(await rows.filter({ hasText: 'nano' }).locator('.badge.removed').count(), 1);
    await screenshot(page, '15-timeline');

    // The fleet's recent changes, filtered to the operating system.
    await page.locator('#nav-changes').click();
    await page.locator('#changes-filter').waitFor();
    await page.locator('#filter-section').selectOption('HARDWARE');
    await page.locator('#changes-filter-submit').click();
    await page.waitForURL(/section=HARDWARE/);
    await settled(page);
    const os = page.locator('table#changes tbody tr');
    assert.equal(await os.count(), 1);
    assert.match(await os.innerText(), /OSVERSION/);
    assert.equal(await os.locator('ins').innerText(), '13');
    assert.match(await page.locator('#csv-export').getAttribute('href'), /^\/changes\.csv\?section=HARDWARE/);
    await screenshot(page, '15-recent-changes');
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
