// Loads the overview of a real repository in headless Chromium: the repository page, the dependency diagram page and
// the first module page, each with a screenshot; checks that every link on those pages resolves, counts the side
// navigation's entries on each, and measures whether the diagram fits the viewport. Usage: node real.mjs BASE_URL ARTIFACT_DIR — prints one JSON line with what it saw.
import { chromium } from 'playwright-core';

const [base, artifacts] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const broken = [];
const checked = new Set();
// Every same-origin link of the page, fetched once: a link that does not answer 200 is broken.
async function checkLinks(page) {
  // SVG links carry their target in an attribute, not in a string `href` property.
  const hrefs = await page.$$eval('a', (as) => as
    .map((a) => a.getAttribute('href') ?? a.getAttribute('xlink:href'))
    .filter((h) => h)
    .map((h) => new URL(h, document.baseURI).href));
  for (const href of hrefs) {
    const url = href.split('#')[0];
    if (!url.startsWith(new URL(base).origin) || checked.has(url)) continue;
    checked.add(url);
    const response = await page.request.get(url);
    if (response.status() !== 200) broken.push(`${url} → ${response.status()}`);
  }
  return hrefs.length;
}
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  const title = (await page.textContent('h1')) ?? '';
  const modules = await page.locator('a.module').count();
  const side = { repository: await page.locator('nav.side li').count() };
  const repositoryLinks = await checkLinks(page);
  await page.screenshot({ path: `${artifacts}/real-repository.png`, fullPage: true });

  await page.goto(`${base}deps`);
  const diagram = await page.evaluate(() => {
    const svgs = [...document.querySelectorAll('main svg, body svg')].filter((s, i, all) => all.indexOf(s) === i);
    if (svgs.length === 0) return null;
    const width = Math.max(...svgs.map((s) => s.getBoundingClientRect().width));
    const height = svgs.reduce((sum, s) => sum + s.getBoundingClientRect().height, 0);
    // Group colours of the module diagram's boxes (legend swatches included), and the group diagram's boxes.
    const fills = new Set([...svgs[0].querySelectorAll('rect')].map((r) => r.getAttribute('fill')));
    const groupBoxes = svgs.length > 1 ? svgs[1].querySelectorAll('a rect').length : 0;
    return {
      width, height, svgs: svgs.length, fills: fills.size, groupBoxes,
      viewport: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
    };
  });
  side.diagram = await page.locator('nav.side li').count();
  const diagramLinks = await checkLinks(page);
  await page.screenshot({ path: `${artifacts}/real-diagram.png`, fullPage: true });

  await page.goto(base);
  const link = page.locator('a.module').first();
  const moduleName = ((await link.textContent()) ?? '').trim();
  await Promise.all([page.waitForNavigation(), link.click()]);
  const heading = (await page.textContent('h1')) ?? '';
  side.module = await page.locator('nav.side li').count();
  const neighbourhood = await page.evaluate(() => {
    const svg = document.querySelector('div.neighbourhood svg');
    if (!svg) return null;
    return { boxes: svg.querySelectorAll('a').length, width: svg.getBoundingClientRect().width, viewport: window.innerWidth };
  });
  side.moduleCurrent = (await page.locator('nav.side b').last().getAttribute('title')) ?? '';
  const moduleLinks = await checkLinks(page);
  await page.screenshot({ path: `${artifacts}/real-module.png`, fullPage: true });
  // The search box in the side navigation: a symbol name finds its module and its definition.
  await page.fill('form.search input[name=q]', 'SymbolGraph');
  await Promise.all([page.waitForNavigation(), page.press('form.search input[name=q]', 'Enter')]);
  const search = {
    heading: (await page.textContent('h1')) ?? '',
    url: page.url(),
    found: await page.$$eval('a.found', (as) => as.map((a) => a.textContent)),
    body: (await page.textContent('main')) ?? '',
  };
  search.links = await checkLinks(page);
  await page.screenshot({ path: `${artifacts}/real-search.png`, fullPage: true });
  console.log(JSON.stringify({ search,
    title, modules, moduleName, heading, diagram, neighbourhood, side, broken, checked: checked.size,
    links: { repository: repositoryLinks, diagram: diagramLinks, module: moduleLinks },
  }));
} finally {
  await browser.close();
}
