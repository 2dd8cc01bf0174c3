// Flow 4: a search with two software criteria (the second row added with "Add a criterion")
// returns exactly the computers having both; the TAG repartition counts and links to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, firstAdminSignIn, rowNames, screenshot, settled, smallInventory } from '../lib/harness.mjs';

const COMPUTERS = [
  { name: 'search-a', tag: 'PARIS', softwares: ['Firefox ESR', 'LibreOffice', 'GIMP'] },
  { name: 'search-b', tag: 'PARIS', softwares: ['Firefox ESR', 'Thunderbird'] },
  { name: 'search-c', tag: 'LYON', softwares: ['LibreOffice', 'Firefox ESR'] },
];

test('a search on two software criteria finds exactly the computers having both', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    for (const c of COMPUTERS) {
      await server.inventory(smallInventory({ ...c, deviceid: `${c.name}-2024-01-01-00-00-00` }));
    }
    await firstAdminSignIn(page);
    await page.locator('header.top nav a[href="/search"]').click();
    await page.locator('#search-form').waitFor();

    // First criterion.
    await page.locator('select[name=f0]').selectOption('software');
    await page.locator('select[name=o0]').selectOption('equal');
    await page.locator('input[name=v0]').fill('Firefox ESR');
    // Second row, added by the form (htmx round trip), keeps the first.
    await page.locator('#add-criterion').click();
    await page.locator('select[name=f1]').waitFor();
    await settled(page);
    assert.equal(await page.locator('select[name=f0]').inputValue(), 'software');
    assert.equal(await page.locator('input[name=v0]').inputValue(), 'Firefox ESR');
    await page.locator('select[name=f1]').selectOption('software');
    await page.locator('select[name=o1]').selectOption('equal');
    await page.locator('input[name=v1]').fill('LibreOffice');
    await page.locator('#search-submit').click();
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.match(page.url(), /v1=LibreOffice/);
    assert.match(await page.locator('#result-count').innerText(), /\b2\b/);
    assert.deepEqual((await rowNames(page)).sort(), ['search-a', 'search-c']);
    await screenshot(page, '04-search');

    // One criterion less: all three have Firefox ESR; "different" excludes those with it.
    await page.goto('/search?f0=software&o0=different&v0=LibreOffice');
    await page.locator('table#computers').waitFor();
    assert.deepEqual(await rowNames(page), ['search-b']);

    // TAG repartition: chart, counts, and the count links to the matching computers.
    await page.locator('header.top nav a[href="/tags"]').click();
    await page.locator('svg#tag-chart').waitFor();
    assert.equal(await page.locator('svg#tag-chart rect.bar').count(), 2);
    const paris = page.locator('table#tags tr', { has: page.locator('td.tag', { hasText: /^PARIS$/ }) });
    assert.equal(await paris.locator('a.count').innerText(), '2');
    await screenshot(page, '04-tags');
    await paris.locator('a.count').click();
    await page.waitForURL(/\/search\?/);
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.deepEqual((await rowNames(page)).sort(), ['search-a', 'search-b']);
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
