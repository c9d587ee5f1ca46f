// Loads every page of a hostile repository's overview in headless Chromium and reports whether any script ran.
// Usage: node hostile.mjs START_URL — visits the start page and a search for a hostile query, then every
// same-origin link on them and on the pages they reach (breadth first, at most 60 pages), and prints one JSON line: the pages visited with their HTTP
// status and Content-Security-Policy, any dialog that opened, and whether the page-global marker the hostile
// file names try to set was ever set.
import { chromium } from 'playwright-core';

const [start] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const report = { visited: [], dialogs: [], pwned: false, injected: [], errors: [] };
try {
  const page = await browser.newPage();
  page.on('dialog', async (dialog) => { report.dialogs.push(dialog.message()); await dialog.dismiss(); });
  const origin = new URL(start).origin;
  // The page search echoes its query: a query that is markup and script is one more hostile page.
  const hostileQuery = '<script>window.__pwned=4;alert(4)</script>" onmouseover="window.__pwned=5';
  const queue = [start, `${start}search?q=${encodeURIComponent(hostileQuery)}`];
  const seen = new Set(queue);
  while (queue.length > 0 && report.visited.length < 60) {
    const url = queue.shift();
    const response = await page.goto(url);
    report.visited.push({
      url,
      status: response ? response.status() : 0,
      csp: response ? (response.headers()['content-security-policy'] || '') : '',
    });
    if (await page.evaluate(() => window.__pwned !== undefined)) report.pwned = true;
    // The policy blocks scripts anyway; markup injected by a name or a query must not even reach the DOM.
    const injected = await page.evaluate(() => document.querySelectorAll('script').length
      + [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length);
    if (injected > 0) report.injected.push(url);
    // SVG anchors have no string `href`: resolve the attribute against the page instead.
    const hrefs = await page.$$eval('a[href]', (anchors) =>
      anchors.map((a) => new URL(a.getAttribute('href'), document.baseURI).href));
    for (const href of hrefs) {
      const target = href.split('#')[0];
      if (target.startsWith(origin) && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
} catch (error) {
  report.errors.push(String(error));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
