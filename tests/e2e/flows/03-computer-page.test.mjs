// Flow 3: the page of a computer imported from the real agent capture shows its software and
// its network cards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Flow, TEST_TIMEOUT, FIXTURES_DIR, firstAdminSignIn, screenshot, settled } from '../lib/harness.mjs';

/** What the capture says about the machine, read from the capture itself. */
const FIXTURE = join(FIXTURES_DIR, 'ocs-agent', '02-INVENTORY-request.xml');

function expectations() {
  const xml = readFileSync(FIXTURE, 'utf8');
  const hardware = xml.match(/<HARDWARE>([\s\S]*?)<\/HARDWARE>/)[1];
  const name = hardware.match(/<NAME>([^<]*)<\/NAME>/)[1];
  const softwares = [...xml.matchAll(/<SOFTWARES>([\s\S]*?)<\/SOFTWARES>/g)]
    .map((m) => m[1].match(/<NAME>([^<]*)<\/NAME>/)?.[1])
    .filter((n) => n && /^[a-z0-9][a-z0-9.+-]*$/i.test(n));
  // The network card that has an IPv4 address.
  const card = [...xml.matchAll(/<NETWORKS>([\s\S]*?)<\/NETWORKS>/g)]
    .map((m) => m[1])
    .find((n) => /<IPADDRESS>\d+\.\d+\.\d+\.\d+<\/IPADDRESS>/.test(n) && /<MACADDR>/.test(n));
  return {
    name,
    software: softwares[Math.floor(softwares.length / 2)],
    softwareCount: softwares.length,
    mac: card.match(/<MACADDR>([^<]*)<\/MACADDR>/)[1],
    ip: card.match(/<IPADDRESS>([^<]*)<\/IPADDRESS>/)[1],
  };
}

test('the computer page shows the software and the networks of the real agent capture', { timeout: TEST_TIMEOUT }, async () => {
  const want = expectations();
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    await server.importRealAgent();
    await firstAdminSignIn(page);
    await page.goto('/computers');
    // Open the computer from the list (an htmx-boosted link).
    await page.locator('table#computers tbody td a', { hasText: want.name }).first().click();
    await page.locator('#banner').waitFor();
    await page.waitForURL(/\/computers\/\d+/);
    await settled(page);
    const url = new URL(page.url());
    assert.equal(await page.locator('#banner h1').innerText(), want.name);
    for (const s of ['softwares', 'networks', 'cpus', 'storages']) {
      assert.equal(await page.locator(`a.section-link[data-section=${s}]`).count(), 1, `menu entry ${s}`);
    }
    await screenshot(page, '03-computer');

    // Software section.
    await page.locator('a.section-link[data-section=softwares]').click();
    const softs = page.locator('section#sec-softwares');
    await softs.waitFor();
    await settled(page);
    assert.match(page.url(), /section=softwares/);
    await softs.getByRole('cell', { name: want.software, exact: true }).first().waitFor();
    assert.ok(await softs.locator('tbody tr').count() >= Math.min(want.softwareCount, 10));

    // Networks section.
    await page.locator('a.section-link[data-section=networks]').click();
    const nets = page.locator('section#sec-networks');
    await nets.waitFor();
    await settled(page);
    await nets.getByRole('cell', { name: want.mac, exact: true }).first().waitFor();
    await nets.getByRole('cell', { name: want.ip, exact: true }).first().waitFor();

    // Show everything: every section at once.
    await page.locator('#show-all').click();
    await page.waitForURL(/section=all/);
    await page.locator('section#sec-softwares').waitFor();
    await settled(page);
    assert.equal(await page.locator('section#sec-networks').count(), 1);
    assert.ok(await page.locator('section.inventory-section').count() > 3);
    await page.locator('section#sec-softwares').getByRole('cell', { name: want.software, exact: true }).first().waitFor();
    await page.locator('section#sec-networks').getByRole('cell', { name: want.mac, exact: true }).first().waitFor();
    await screenshot(page, '03-computer-show-all');

    // The print view: no header, no forms.
    const href = await page.locator('#print-view').getAttribute('href');
    await page.goto(href);
    assert.equal(await page.locator('body.print').count(), 1);
    assert.equal(await page.locator('header.top').count(), 0);
    assert.equal(await page.locator('#admin-data-form').count(), 0);
    assert.ok(url.pathname.startsWith('/computers/'));

    // The same capture uploaded on the Import page updates that computer (same DEVICEID).
    await page.goto('/admin/import');
    await page.locator('#import-form input[type=file][name=file]').setInputFiles(FIXTURE);
    await Promise.all([page.waitForNavigation(), page.locator('#import-submit').click()]);
    await page.locator('#import-results').waitFor();
    assert.equal(await page.locator('#import-results li.error').count(), 0,
      await page.locator('#import-results').innerText());
    assert.equal(await page.locator('#import-results li.ok').count(), 1);
    await screenshot(page, '03-import');
    await page.goto('/computers');
    assert.match(await page.locator('#result-count').innerText(), /^1\b/);
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
