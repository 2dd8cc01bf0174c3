// Flow 8: a search on an OS and a software is saved as a dynamic group; the group page lists
// exactly its members with the criteria in words; a computer page shows the group, and forcing
// the computer out there removes it from the group's members.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, firstAdminSignIn, rowNames, screenshot, settled, smallInventory } from '../lib/harness.mjs';

const COMPUTERS = [
  { name: 'grp-a', os: 'Debian GNU/Linux', softwares: ['Firefox ESR', 'GIMP'] },
  { name: 'grp-b', os: 'Ubuntu Linux', softwares: ['Firefox ESR'] },
  { name: 'grp-c', os: 'Debian GNU/Linux', softwares: ['GIMP'] },
  { name: 'grp-d', os: 'Windows 11', softwares: ['Firefox ESR'] },
];

test('a dynamic group built from a search shows its members', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    for (const c of COMPUTERS) {
      await server.inventory(smallInventory({ ...c, deviceid: `${c.name}-2024-01-01-00-00-00` }));
    }
    await firstAdminSignIn(page);
    await page.locator('header.top nav a[href="/search"]').click();
    await page.locator('#search-form').waitFor();
    await page.locator('select[name=f0]').selectOption('os');
    await page.locator('select[name=o0]').selectOption('equal');
    await page.locator('input[name=v0]').fill('*Linux*');
    await page.locator('#add-criterion').click();
    await page.locator('select[name=f1]').waitFor();
    await settled(page);
    await page.locator('select[name=f1]').selectOption('software');
    await page.locator('input[name=v1]').fill('Firefox*');
    await page.locator('#search-submit').click();
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.deepEqual((await rowNames(page)).sort(), ['grp-a', 'grp-b']);

    // Save as a dynamic group.
    await page.locator('#save-group-name').fill('Linux with Firefox');
    await page.locator('#save-group-description').fill('made from a search');
    await screenshot(page, '08-save-search');
    await page.locator('#save-group-submit').click();
    await page.waitForURL(/\/groups\/\d+$/);
    await page.locator('#group-name').waitFor();
    await settled(page);
    assert.equal(await page.locator('#group-name').innerText(), 'Linux with Firefox');
    assert.equal(await page.locator('#group-members').innerText(), '2');
    const words = await page.locator('#criteria-words li').allInnerTexts();
    assert.deepEqual(words, ['Operating system EQUAL *Linux*', 'Software EQUAL Firefox*']);
    assert.deepEqual((await rowNames(page)).sort(), ['grp-a', 'grp-b']);
    await screenshot(page, '08-group');
    const groupUrl = new URL(page.url()).pathname;

    // The groups list counts it.
    await page.locator('header.top nav a[href="/groups"]').click();
    await page.locator('table#groups').waitFor();
    const row = page.locator('table#groups tbody tr', { hasText: 'Linux with Firefox' });
    assert.equal(await row.locator('td[data-col=members]').innerText(), '2');
    assert.equal(await row.locator('td[data-col=kind]').innerText(), 'Dynamic');

    // The computer page lists the group; forcing it out takes it off the members.
    await page.goto(groupUrl);
    await page.locator('table#computers').waitFor();
    await page.locator('table#computers a', { hasText: /^grp-a$/ }).click();
    await page.locator('#computer-groups-table').waitFor();
    await settled(page);
    const line = page.locator('#computer-groups-table tr', { hasText: 'Linux with Firefox' });
    assert.equal(await line.locator('td[data-col=how]').innerText(), 'Matches the criteria');
    await screenshot(page, '08-computer-groups');
    await line.locator('button[value=out]').click();
    await page.locator('#computer-groups-table').waitFor();
    await settled(page);
    assert.equal(
      await page.locator('#computer-groups-table tr', { hasText: 'Linux with Firefox' }).locator('td[data-col=how]').innerText(),
      'Forced out',
    );
    await page.goto(groupUrl);
    await page.locator('table#computers').waitFor();
    assert.deepEqual(await rowNames(page), ['grp-b']);
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
