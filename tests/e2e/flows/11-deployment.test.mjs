// Flow 11: a package is built in the console with an uploaded archive, activated with the
// default locations (the server checks its own HTTPS), given to every result of a search as a
// mass action; an agent's report shows in the package's statistics, whose count opens the
// computers at that status, and "validate success" clears it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow, TEST_TIMEOUT, firstAdminSignIn, rowNames, screenshot, settled, smallInventory } from '../lib/harness.mjs';

const NAMES = ['lab-1', 'lab-2', 'office-1'];
const deviceid = (name) => `${name}-2024-01-01-00-00-00`;

function archive() {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-e2e-pkg-'));
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hello\n');
  const file = join(dir, 'hello.tar.gz');
  execFileSync('tar', ['czf', file, '-C', dir, 'run.sh']);
  return file;
}

test('a package is built, activated, affected from a search and its success validated', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    for (const name of NAMES) {
      await server.inventory(smallInventory({ name, deviceid: deviceid(name) }));
    }
    await firstAdminSignIn(page);

    // Build, with an upload.
    await page.locator('header.top nav a#nav-deployment').click();
    await page.locator('#new-package').click();
    const form = page.locator('#build-form');
    await form.locator('input[name=name]').fill('Hello');
    await form.locator('select[name=action]').selectOption('execute');
    await form.locator('input[name=action_param]').fill('sh run.sh');
    await form.locator('input[name=fragments]').fill('2');
    await form.locator('input[name=file]').setInputFiles(archive());
    await screenshot(page, '11-build');
    await form.locator('#build').click();
    await page.locator('#package-fileid').waitFor();
    const fileid = (await page.locator('#package-fileid').innerText()).trim();
    assert.match(fileid, /^\d+$/);
    const packageUrl = `/packages/${fileid}`;

    // Activate with the defaults: the server fetches its own info file over HTTPS.
    // The activation answers once the check is done: wait for its message before reloading
    // (under load the reload could otherwise overtake it).
    await page.locator('#activate').click();
    await page.locator('.flash-ok', { hasText: 'Package activated.' })
      .or(page.locator('.flash-error')).first().waitFor({ timeout: 30000 });
    assert.equal(await page.locator('.flash-error').count(), 0, await page.locator('main').innerText());
    await page.goto(packageUrl);
    await page.locator('table#activations').waitFor();
    assert.equal(await page.locator('table#activations tbody tr').count(), 1);
    await screenshot(page, '11-activated');

    // Affect to the whole result of a search.
    await page.goto('/search?f0=name&o0=equal&v0=lab-*&sort=name&dir=asc');
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.deepEqual(await rowNames(page), ['lab-1', 'lab-2']);
    await page.locator('#mass-all').click();
    await page.locator('#mass-count').waitFor();
    await page.locator('#mass-affect button[type=submit]').click();
    await page.locator('#mass-will-change').waitFor();
    assert.equal(await page.locator('#mass-will-change').innerText(), '2 computers will change.');
    await page.locator('#mass-apply').click();
    await page.locator('#mass-changed').waitFor();

    // One agent reports success.
    const report = await server.agent(
      `<?xml version="1.0" encoding="UTF-8"?><REQUEST><DEVICEID>${deviceid('lab-1')}</DEVICEID><QUERY>DOWNLOAD</QUERY><ID>${fileid}</ID><ERR>SUCCESS</ERR></REQUEST>`,
    );
    assert.equal(report.status, 200);

    // Statistics: one waiting, one success; the success count opens that computer.
    await page.goto(packageUrl);
    await page.locator('#package-status-link').click();
    await page.locator('table#statuses').waitFor();
    const counts = async () => {
      const out = {};
      for (const row of await page.locator('table#statuses tbody tr').all()) {
        const cells = await row.locator('td').allInnerTexts();
        out[cells[0].trim()] = Number(cells[1].trim());
      }
      return out;
    };
    assert.deepEqual(await counts(), { WAITING: 1, SUCCESS: 1 });
    assert.ok(await page.locator('#status-chart svg').count() === 1, 'the chart is drawn');
    await screenshot(page, '11-status');
    const statusUrl = new URL(page.url()).pathname;
    await page.locator('table#statuses tbody tr', { hasText: 'SUCCESS' }).locator('a.status-count').click();
    await page.locator('table#computers').waitFor();
    await settled(page);
    assert.deepEqual(await rowNames(page), ['lab-1']);

    // Validate success: the finished computer leaves the statistics.
    await page.goto(statusUrl);
    const validate = page.locator('#validate-success');
    await validate.locator('input[name=confirm]').check();
    await validate.locator('button[type=submit]').click();
    await page.goto(statusUrl);
    await page.locator('table#statuses').waitFor();
    assert.deepEqual(await counts(), { WAITING: 1 });
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
