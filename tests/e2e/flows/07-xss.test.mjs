// Flow 7: inventory fields holding HTML/JavaScript payloads are shown as text everywhere
// (list, computer page, TAG repartition, search), nothing runs, and the strict CSP is never hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, computerIdByName, firstAdminSignIn, screenshot, settled, xmlText, inventoryXml } from '../lib/harness.mjs';

const NAME = '<script>window.__xss=1</script>';
const SOFTWARE = '<img src=x onerror="window.__xss=2">';
const OS = '"><svg onload=window.__xss=3>';
const TAG = "<iframe src=javascript:window.__xss=4></iframe>'\"&amp;";
const DEVICEID = 'xss-2024-01-01-00-00-00';

async function assertInert(page, where) {
  assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined', `a payload ran on ${where}`);
  assert.equal(await page.locator('main script, main img, main iframe, main svg:not(#tag-chart)').count(), 0,
    `payload markup became elements on ${where}`);
}

test('payloads in inventory fields are shown as text and never run', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    const content =
      `<HARDWARE><NAME>${xmlText(NAME)}</NAME><OSNAME>${xmlText(OS)}</OSNAME><MEMORY>1024</MEMORY>` +
      `<USERID>${xmlText(SOFTWARE)}</USERID></HARDWARE>` +
      `<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>${xmlText(TAG)}</KEYVALUE></ACCOUNTINFO>` +
      `<SOFTWARES><NAME>${xmlText(SOFTWARE)}</NAME><VERSION>${xmlText(NAME)}</VERSION><PUBLISHER>${xmlText(OS)}</PUBLISHER></SOFTWARES>`;
    await server.inventory(inventoryXml(DEVICEID, content));
    await firstAdminSignIn(page);

    // All computers.
    await page.goto('/computers');
    await page.locator('table#computers').waitFor();
    await page.locator('table#computers').getByText(NAME, { exact: true }).waitFor();
    await page.locator('table#computers').getByText(TAG, { exact: true }).waitFor();
    await assertInert(page, '/computers');
    await screenshot(page, '07-xss-list');

    // The computer page, everything shown.
    const id = await computerIdByName(page, NAME);
    await page.goto(`/computers/${id}`);
    await page.locator('#banner').waitFor();
    assert.equal(await page.locator('#banner h1').innerText(), NAME);
    assert.ok((await page.title()).startsWith(NAME), `title: ${await page.title()}`);
    await page.locator('#show-all').click();
    await page.waitForURL(/section=all/);
    await page.locator('section#sec-softwares').waitFor();
    await settled(page);
    await page.locator('section#sec-softwares').getByText(SOFTWARE, { exact: true }).waitFor();
    await page.locator('section#sec-softwares').getByText(NAME, { exact: true }).waitFor();
    await page.locator('section#sec-softwares').getByText(OS, { exact: true }).waitFor();
    await page.locator('#banner').getByText(OS, { exact: false }).first().waitFor();
    assert.equal(await page.locator('#admin-data-form input[name=TAG]').inputValue(), TAG);
    await assertInert(page, 'the computer page');
    await screenshot(page, '07-xss-computer');

    // TAG repartition: in the chart (SVG text) and the table.
    await page.goto('/tags');
    await page.locator('svg#tag-chart').waitFor();
    await page.locator('table#tags td.tag').getByText(TAG, { exact: true }).waitFor();
    // Long TAGs are shortened on the chart; the bar's tooltip carries the whole text.
    const labels = await page.locator('svg#tag-chart text.label').allTextContents();
    assert.ok(labels.some((l) => l === TAG || (l.endsWith('…') && TAG.startsWith(l.slice(0, -1)))), `labels: ${labels}`);
    const tips = await page.locator('svg#tag-chart rect title').allTextContents();
    assert.ok(tips.some((t) => t.startsWith(`${TAG}:`)), `tooltips: ${tips}`);
    await assertInert(page, '/tags');
    await screenshot(page, '07-xss-tags');
    // Its count link leads to a search for that very TAG.
    await page.locator('table#tags tr', { hasText: TAG }).locator('a.count').click();
    await page.waitForURL(/\/search\?/);
    await page.locator('table#computers').getByText(NAME, { exact: true }).waitFor();
    await settled(page);
    await assertInert(page, 'the TAG search');

    // A search whose criterion value is a payload: the value comes back in the form as text.
    await page.goto('/search');
    await page.locator('select[name=f0]').selectOption('software');
    await page.locator('select[name=o0]').selectOption('equal');
    await page.locator('input[name=v0]').fill(SOFTWARE);
    await page.locator('#search-submit').click();
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.equal(await page.locator('input[name=v0]').inputValue(), SOFTWARE);
    assert.match(await page.locator('#result-count').innerText(), /\b1\b/);
    await page.locator('table#computers').getByText(NAME, { exact: true }).waitFor();
    await assertInert(page, '/search');
    // Loaded directly (not through htmx) as well.
    await page.reload();
    await page.locator('table#computers').getByText(NAME, { exact: true }).waitFor();
    assert.equal(await page.locator('input[name=v0]').inputValue(), SOFTWARE);
    await assertInert(page, '/search (reloaded)');
    await screenshot(page, '07-xss-search');
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
