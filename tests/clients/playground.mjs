// Drives the torrentql playground in headless Chromium: opens the page,
// pastes the token once, runs the query, reloads (the token must persist),
// runs it again, and prints what the result pane showed as JSON.
//
//   node playground.mjs <playground URL> <token> <query> [screenshot.png]
import { chromium } from 'playwright-core';

const [url, token, query, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const failedRequests = [];
  const outsideRequests = [];
  page.on('requestfailed', (request) => failedRequests.push(request.url()));
  // No network beyond torrentql: anything else is refused, and recorded.
  await page.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith(new URL(url).origin)) return route.continue();
    outsideRequests.push(requested);
    return route.abort('blockedbyclient');
  });

  const runQuery = async () => {
    await page.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(
      () => document.querySelector('.result-window')?.textContent.includes('"data"'),
      null, { timeout: 30000 });
    return page.textContent('.result-window');
  };

  await page.goto(`${url}?query=${encodeURIComponent(query)}`);
  await page.fill('#token', token);
  await page.click('#save-token');
  const first = await runQuery();
  await page.reload();
  const afterReload = await runQuery();
  const status = await page.textContent('#token-status');
  if (screenshot) await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ first, afterReload, status, failedRequests, outsideRequests }));
} finally {
  await browser.close();
}
