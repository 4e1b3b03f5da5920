// Loads the status page and GraphiQL in headless Chromium as a person
// would, runs one query from GraphiQL, checks what is on screen, and saves
// a screenshot of each page.
//
// usage: node check.mjs BASE_URL OUT_DIR EXPECTED_JSON
// EXPECTED_JSON: {"active": "2", "inactive": "1", "activeNpns": ["1", "2"], "rejection": "signature_mismatch"}
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, outDir, expectedJson] = process.argv.slice(2);
const expected = JSON.parse(expectedJson);
mkdirSync(outDir, { recursive: true });

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
  console.log(`ok - ${message}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const failed = [];
  page.on('requestfailed', (request) => failed.push(request.url()));

  await page.goto(`${base}/`);
  check((await page.textContent('h1')) === 'producer-projector', 'status page has its title');
  check((await page.textContent('#active')) === expected.active, `status page shows ${expected.active} active`);
  check((await page.textContent('#inactive')) === expected.inactive, `status page shows ${expected.inactive} inactive`);
  check((await page.textContent('#rejections')).includes(expected.rejection), `status page lists ${expected.rejection}`);
  check((await page.textContent('#last-run-date')) === expected.runDate, `status page shows runDate ${expected.runDate}`);
  check(await page.isVisible('a[href="/graphql"]'), 'status page links to GraphiQL');
  check(await page.isVisible('a[href="/metrics"]'), 'status page links to /metrics');
  check((await page.getAttribute('meta[http-equiv="refresh"]', 'content')) !== null, 'status page refreshes itself');
  await page.screenshot({ path: join(outDir, 'status-page.png'), fullPage: true });

  await page.goto(`${base}/graphql`);
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });
  const query = '{ activeNpns stats { activeCount } }';
  await page.evaluate((text) => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
  }, query);
  await page.click('.graphiql-execute-button');
  const response = page.locator('.graphiql-response');
  await response.getByText('"activeCount"').waitFor({ timeout: 15000 });
  const shown = await response.innerText();
  for (const npn of expected.activeNpns) {
    check(shown.includes(`"${npn}"`), `GraphiQL shows active NPN ${npn}`);
  }
  check(shown.includes(`"activeCount": ${expected.active}`), 'GraphiQL shows the active count');
  await page.screenshot({ path: join(outDir, 'graphiql.png') });
  check(failed.length === 0, `no request failed (${failed.join(', ')})`);
} finally {
  await browser.close();
}
