// Flow 12: network discovery. An administrator forces a computer to scan one of its networks
// from its page; the next PROLOG asks it to; its results show in the networks list with their
// counts and vendors; a discovered device is registered as known and moves to the identified
// list; the scanning computers page says why the computer scans; the IP query finds a device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flow, TEST_TIMEOUT, computerIdByName, firstAdminSignIn, inventoryXml, screenshot, settled, xmlText } from '../lib/harness.mjs';

const SCANNER = 'netdisc-scanner-2024-01-01-00-00-00';
const DESK = 'netdisc-desk-2024-01-01-00-00-00';

function iface({ ip, mac, subnet = '192.0.2.0', mask = '255.255.255.0' }) {
  return `<NETWORKS><DESCRIPTION>eth0</DESCRIPTION><IPADDRESS>${ip}</IPADDRESS><IPMASK>${mask}</IPMASK>`
    + `<IPSUBNET>${subnet}</IPSUBNET><MACADDR>${mac}</MACADDR><STATUS>Up</STATUS></NETWORKS>`;
}

function computer(deviceid, name, interfaces, extra = '') {
  return inventoryXml(
    deviceid,
    `<HARDWARE><NAME>${xmlText(name)}</NAME><OSNAME>Debian GNU/Linux</OSNAME></HARDWARE>${interfaces}${extra}`,
  );
}

const SCANNER_IFACES = iface({ ip: '192.0.2.10', mac: '00:16:3e:0a:00:10' })
  + iface({ ip: '198.51.100.10', mac: '00:16:3e:0a:01:10', subnet: '198.51.100.0' });

/** What an elected agent sends back: the desk (inventoried) and two unknown devices. */
const SCAN = '<IPDISCOVER>'
  + '<H><I>192.0.2.21</I><M>3c:52:82:00:00:21</M><N>printer.lab</N></H>'
  + '<H><I>192.0.2.22</I><M>00:1a:a0:00:00:22</M><N>desk.lab</N></H>'
  + '<H><I>192.0.2.23</I><M>b8:27:eb:00:00:23</M><N>-</N></H>'
  + '</IPDISCOVER>';

test('a forced scanner maps its network; a device is registered as known', { timeout: TEST_TIMEOUT }, async () => {
  const flow = await Flow.start();
  try {
    const { page, server } = flow;
    await server.inventory(computer(SCANNER, 'netdisc-scanner', SCANNER_IFACES));
    await server.inventory(computer(DESK, 'netdisc-desk', iface({ ip: '192.0.2.22', mac: '00:1a:a0:00:00:22' })));
    await firstAdminSignIn(page);

    // Forced on its second network from the computer page, then back on the first.
    const id = await computerIdByName(page, 'netdisc-scanner');
    await page.goto(`/computers/${id}`);
    await page.locator('#customisation-form select[name=IPDISCOVER]').selectOption('2');
    const network = page.locator('#ipdiscover-network');
    const offered = await network.locator('option').evaluateAll((os) => os.map((o) => o.value));
    assert.ok(offered.includes('192.0.2.0') && offered.includes('198.51.100.0'), `networks offered: ${offered}`);
    await network.selectOption('192.0.2.0');
    await page.locator('#customisation-submit').click();
    await page.locator('.flash-ok').waitFor();
    await settled(page);
    await screenshot(page, '12-computer-forced');
    const reply = await server.prolog(SCANNER);
    assert.match(reply, /<NAME>IPDISCOVER<\/NAME>/, `no IPDISCOVER option:\n${reply}`);
    assert.match(reply, />192\.0\.2\.0</, `not the chosen network:\n${reply}`);

    await server.inventory(computer(SCANNER, 'netdisc-scanner', SCANNER_IFACES, SCAN));

    // The networks list: 2 inventoried, 2 not inventoried, 1 agent, 0 identified.
    await page.locator('header.top nav a[href="/networks"]').click();
    const row = page.locator('table#networks tbody tr[data-netid="192.0.2.0"]');
    await row.waitFor();
    const count = (col) => row.locator(`td[data-col=${col}]`).innerText();
    assert.equal(await count('inventoried'), '2');
    assert.equal(await count('uninventoried'), '2');
    assert.equal(await count('agents'), '1');
    assert.equal(await count('identified'), '0');
    await screenshot(page, '12-networks');

    // Non-inventoried devices, with their vendors.
    await row.locator('td[data-col=uninventoried] a').click();
    await page.locator('table#devices[data-kind=uninventoried]').waitFor();
    const printer = page.locator('table#devices tbody tr[data-mac="3c:52:82:00:00:21"]');
    assert.match(await printer.locator('td[data-col=vendor]').innerText(), /Hewlett/i);
    assert.match(await printer.locator('td[data-col=name]').innerText(), /printer\.lab/);
    assert.equal(await page.locator('table#devices tbody tr[data-mac="00:1a:a0:00:00:22"]').count(), 0, 'the desk is inventoried');
    await screenshot(page, '12-uninventoried');

    // A type, then the printer registered as known: it moves to the identified list.
    await page.goto('/networks/types');
    await page.locator('#type-add input[name=name]').fill('Printer');
    await page.locator('#type-add-submit').click();
    await page.locator('.flash-ok').waitFor();
    await page.goto('/networks/192.0.2.0/uninventoried');
    await printer.locator('a.register').click();
    await page.locator('form#register').waitFor();
    await page.locator('form#register select[name=device_type]').selectOption('Printer');
    await page.locator('form#register input[name=description]').fill('Second floor');
    await page.locator('#register-submit').click();
    await page.locator('table#devices[data-kind=identified]').waitFor();
    await page.locator('.flash-ok').waitFor();
    const known = page.locator('table#devices tbody tr[data-mac="3c:52:82:00:00:21"]');
    assert.match(await known.innerText(), /Second floor/);
    await screenshot(page, '12-identified');
    await page.goto('/networks/192.0.2.0/uninventoried');
    assert.equal(await page.locator('table#devices tbody tr').count(), 1, 'only the unknown device is left');

    // Who scans, and why.
    await page.goto('/networks/agents');
    const scanner = page.locator('table#agents tbody tr', { hasText: 'netdisc-scanner' });
    await scanner.waitFor();
    assert.match(await scanner.innerText(), /192\.0\.2\.0/);
    assert.match(await scanner.innerText(), /forced/i);
    await screenshot(page, '12-agents');

    // The IP query finds the discovered device and its vendor.
    await page.goto('/networks/lookup');
    await page.locator('form#lookup input[name=ip]').fill('192.0.2.23');
    await page.locator('#lookup-submit').click();
    await page.locator('table#lookup-devices').waitFor();
    assert.match(await page.locator('table#lookup-devices').innerText(), /b8:27:eb:00:00:23/);
    assert.match(await page.locator('table#lookup-devices').innerText(), /Raspberry/i);
    await screenshot(page, '12-lookup');
    flow.assertClean();
  } finally {
    await flow.finish();
  }
});
