// Flow 5: what an administrator changes in the console reaches the agents' next PROLOG:
// a server option (Options page) and a per-computer customisation (computer page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, computerIdByName, firstAdminSignIn, screenshot, settled, smallInventory } from '../lib/harness.mjs';

const ONE = 'prolog-one-2024-01-01-00-00-00';
const TWO = 'prolog-two-2024-01-01-00-00-00';

function prologFreq(reply) {
  return reply.match(/<PROLOG_FREQ>\s*([^<\s]*)\s*<\/PROLOG_FREQ>/)?.[1];
}

/** The ON value of the DOWNLOAD option block (attribute or element form), if any. */
function downloadOn(reply) {
  const block = [...reply.matchAll(/<OPTION>([\s\S]*?)<\/OPTION>/g)]
    .map((m) => m[1])
    .find((b) => /<NAME>\s*DOWNLOAD\s*<\/NAME>/.test(b));
  if (!block) return undefined;
  return block.match(/\bON="([^"]*)"/)?.[1] ?? block.match(/<ON>\s*([^<\s]*)\s*<\/ON>/)?.[1];
}

test('an option changed on the Options page and a customisation reach the next PROLOG', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    await server.inventory(smallInventory({ deviceid: ONE, name: 'prolog-one' }));
    await server.inventory(smallInventory({ deviceid: TWO, name: 'prolog-two' }));
    let reply = await server.prolog(ONE);
    const before = prologFreq(reply);
    assert.ok(before, `PROLOG reply without PROLOG_FREQ:\n${reply}`);
    const wanted = before === '7' ? '9' : '7';
    assert.equal(downloadOn(reply), '0', `deployment is off by default:\n${reply}`);

    await firstAdminSignIn(page);
    await page.locator('header.top nav a[href="/admin/options"]').click();
    await page.locator('#options-form').waitFor();
    assert.equal(await page.locator('#options-form [name=PROLOG_FREQ]').inputValue(), before);
    await page.locator('#options-form input[name=PROLOG_FREQ]').fill(wanted);
    // Deployment on for everybody (the option is a select or a text field).
    const download = page.locator('#options-form [name=DOWNLOAD]');
    if (await download.evaluate((e) => e.tagName) === 'SELECT') await download.selectOption('1');
    else await download.fill('1');
    await page.locator('#options-submit').click();
    await page.locator('.flash-ok').waitFor();
    await settled(page);
    assert.equal(await page.locator('.flash-error').count(), 0);
    assert.equal(await page.locator('#options-form input[name=PROLOG_FREQ]').inputValue(), wanted);
    await screenshot(page, '05-options');

    reply = await server.prolog(ONE);
    assert.equal(prologFreq(reply), wanted, `PROLOG_FREQ not in the next PROLOG:\n${reply}`);
    assert.equal(downloadOn(reply), '1', `DOWNLOAD not switched on in the next PROLOG:\n${reply}`);

    // A bad value is refused with a message and changes nothing.
    await page.locator('#options-form input[name=PROLOG_FREQ]').fill('abc');
    await page.locator('#options-submit').click();
    await page.locator('.flash-error').waitFor();
    await settled(page);
    assert.equal(prologFreq(await server.prolog(ONE)), wanted);

    // Customisation of one computer: deployment Off for it alone.
    const id = await computerIdByName(page, 'prolog-one');
    await page.goto(`/computers/${id}`);
    await page.locator('#customisation-form select[name=DOWNLOAD_SWITCH]').selectOption('0');
    await page.locator('#customisation-submit').click();
    await page.locator('.flash-ok').waitFor();
    await settled(page);
    assert.equal(await page.locator('#customisation-form select[name=DOWNLOAD_SWITCH]').inputValue(), '0');
    await screenshot(page, '05-customisation');
    reply = await server.prolog(ONE);
    assert.equal(downloadOn(reply), '0', `customisation not in the next PROLOG:\n${reply}`);
    assert.equal(downloadOn(await server.prolog(TWO)), '1', 'the other computer keeps the server option');
    // The list marks the customised computer.
    await page.goto('/computers');
    const row = page.locator('table#computers tbody tr', { hasText: 'prolog-one' });
    assert.equal(await row.locator('.customised').count(), 1);
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
