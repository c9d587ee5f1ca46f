// Loads the served overview in headless Chromium, follows the first module link, checks the module page and
// writes a screenshot. Usage: node overview.mjs URL SCREENSHOT.png — prints one JSON line with what it saw.
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  const title = (await page.textContent('h1')) ?? '';
  const link = page.locator('a.module').first();
  const moduleName = ((await link.textContent()) ?? '').trim();
  await Promise.all([page.waitForNavigation(), link.click()]);
  const heading = (await page.textContent('h1')) ?? '';
  const body = (await page.textContent('body')) ?? '';
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ title, moduleName, heading, url: page.url(), body }));
} finally {
  await browser.close();
}
