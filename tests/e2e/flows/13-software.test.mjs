// Flow 13: the fleet's software. Two computers' software shows in the software list with its
// computer counts; an administrator makes a category and a rule on the categories page and
// watches the re-application finish; in the dictionary they tick Teams into IGNORED, which
// hides it from the list and from the computer's page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, computerIdByName, firstAdminSignIn, screenshot, settled, smallInventory } from '../lib/harness.mjs';

test('software is listed, categorised by a rule and ignored from the dictionary', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    await server.inventory(smallInventory({ deviceid: 'sw-a-2024-01-01-00-00-00', name: 'sw-a', softwares: ['Firefox', 'Teams'] }));
    await server.inventory(smallInventory({ deviceid: 'sw-b-2024-01-01-00-00-00', name: 'sw-b', softwares: ['Firefox'] }));
    await firstAdminSignIn(page);

    await page.locator('header.top nav a[href="/software"]').click();
    const firefox = page.locator('table#software tbody tr', { hasText: 'Firefox' });
    await firefox.waitFor();
    assert.equal(await firefox.locator('td[data-col=computers]').innerText(), '2');
    assert.equal(await firefox.locator('td[data-col=category]').innerText(), 'NEW');
    await screenshot(page, '13-software');

    // A category, then a rule: the job re-applies the rules and the page follows it.
    await page.locator('#software-subnav a[href="/software/categories"]').click();
    await page.locator('#category-create input[name=name]').fill('Browsers');
    await page.locator('#category-create-submit').click();
    await page.locator('.flash-ok').waitFor();
    await page.locator('#rule-add select[name=category]').selectOption({ label: 'Browsers' });
    await page.locator('#rule-add input[name=pattern]').fill('fire*');
    await page.locator('#rule-add-submit').click();
    await page.locator('.flash-ok').waitFor();
    await page.locator('#reapply-job[data-state=done]').waitFor({ timeout: 20_000 });
    await settled(page);
    assert.match(await page.locator('table#rules tbody').innerText(), /fire\*/);
    await screenshot(page, '13-categories');
    await page.goto('/software');
    assert.equal(await firefox.locator('td[data-col=category]').innerText(), 'Browsers');

    // The dictionary: Teams ticked and moved to IGNORED.
    await page.locator('#software-subnav a[href="/software/dictionary"]').click();
    await page.locator('#dictionary-filter input[name=q]').fill('teams');
    await page.locator('#dictionary-filter-submit').click();
    const teams = page.locator('table#dictionary tbody tr', { hasText: 'Teams' });
    await teams.waitFor();
    await teams.locator('input[name=sel]').check();
    await page.locator('#move-to select[name=target]').selectOption({ label: 'IGNORED' });
    await page.locator('#move-submit').click();
    await page.locator('.flash-ok').waitFor();
    await screenshot(page, '13-dictionary');
    await page.goto('/software');
    await firefox.waitFor();
    assert.equal(await page.locator('table#software tbody tr', { hasText: 'Teams' }).count(), 0);
    const id = await computerIdByName(page, 'sw-a');
    await page.goto(`/computers/${id}?section=softwares`);
    const installed = await page.locator('#sec-softwares').innerText();
    assert.match(installed, /Firefox/);
    assert.doesNotMatch(installed, /Teams/);
    assert.equal(await page.locator('#section-menu a[data-section=softwares] .count').innerText(), '1');
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
