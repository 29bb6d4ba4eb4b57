// Drives torrentql's web UI in Debian's headless Chromium, as a person
// would: one scenario per run, printing what it saw as one JSON object.
// Every run records console errors, page errors, CSP violations, dialogs
// and any request that is not to torrentql's own origin (those are
// refused), so the Rust side can assert there were none.
//
//   node ui.mjs <scenario> <json arguments>
//
// Scenarios: signin, add, progress, search, bulk, hostile, screenshots,
// performance (see each function).
import { chromium } from 'playwright-core';

const [scenario, rawArguments] = process.argv.slice(2);
const args = JSON.parse(rawArguments ?? '{}');
const TIMEOUT = 30000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const seen = { consoleErrors: [], pageErrors: [], outsideRequests: [], dialogs: [], cspViolations: [] };

async function openPage({ width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const origin = new URL(args.url).origin;
  const wsOrigin = origin.replace(/^http/, 'ws');
  await context.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith(origin)) return route.continue();
    seen.outsideRequests.push(requested);
    return route.abort('blockedbyclient');
  });
  page.on('websocket', (socket) => {
    if (!socket.url().startsWith(wsOrigin)) seen.outsideRequests.push(socket.url());
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium's own report of a blocked load, and the page's listener's.
    const csp = /Content Security Policy|^CSP violation/.test(message.text());
    (csp ? seen.cspViolations : seen.consoleErrors).push(message.text());
  });
  page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss();
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return page;
}

/** Opens the UI signed in with `token` (pasted, as a person would). */
async function signedIn(page, token = args.token, path = '#/torrents') {
  await page.goto(`${args.url}/${path}`);
  await page.fill('input[name="token"]', token);
  await page.click('text=Use this token');
  await page.waitForSelector('header.top');
}

/** The names of the list's rows in sight, top to bottom. */
async function rowNames(page) {
  return page.$$eval('.torrent-row', (rows) => rows
    .map((row) => [Number(row.style.transform.match(/[\d.]+/)?.[0] ?? 0), row.querySelector('.torrent-name').textContent])
    .sort((a, b) => a[0] - b[0])
    .map(([, name]) => name));
}

/** Waits until the list shows the rows of a query whose key has `part`. */
async function waitForList(page, part) {
  await page.waitForFunction((expected) => document.querySelector('.torrents')?.dataset.loaded?.includes(expected), part);
}

async function waitForCount(page, text) {
  await page.waitForFunction((expected) => document.querySelector('.count')?.textContent.startsWith(expected), text);
}

const scenarios = {
  /** A pasted token, the fake Jellyfin's admin, a non-admin, an expiring token. */
  async signin() {
    const page = await openPage();
    const result = {};
    await page.goto(`${args.url}/`);
    await page.fill('input[name="token"]', args.expiringToken);
    await page.click('text=Use this token');
    await page.waitForSelector('.torrents');
    await page.waitForSelector('.signin .note.warning', { timeout: 25000 });
    result.expiredMessage = await page.textContent('.signin .note.warning');
    await page.fill('input[name="token"]', args.userToken);
    await page.click('text=Use this token');
    result.userTokenRefusal = await page.textContent('.note.error');

    await page.fill('input[name="token"]', args.token);
    await page.click('text=Use this token');
    await page.waitForSelector('.torrents');
    result.afterToken = await page.textContent('.who');
    result.tokenInStorage = await page.evaluate(() => sessionStorage.getItem('torrentql.token') != null);
    await page.reload();
    await page.waitForSelector('.torrents');
    result.afterReload = await page.textContent('.who');
    await page.click('text=Sign out');
    await page.waitForSelector('input[name="token"]');
    result.tokenAfterSignOut = await page.evaluate(() => sessionStorage.getItem('torrentql.token'));

    await page.fill('input[name="username"]', 'demo');
    await page.fill('input[name="password"]', args.password);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('.note.error');
    result.nonAdminRefusal = await page.textContent('.note.error');
    await page.fill('input[name="username"]', 'admin');
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('.torrents');
    result.afterLogin = await page.textContent('.who');
    await page.click('text=Sign out');
    result.urls = [...new Set(await page.evaluate(() => performance.getEntriesByType('resource').map((entry) => entry.name)))];
    return result;
  },

  /** A magnet into a library, then a `.torrent` with its second file left out. */
  async add() {
    const page = await openPage();
    await signedIn(page, args.token, '#/add');
    await page.fill('input[name="source"]', args.magnet);
    await page.waitForSelector('.preview');
    await page.selectOption('label:has-text("Library") select', args.library);
    await page.click('button[type="submit"]');
    await page.waitForSelector('.note.ok a');
    const magnetAdded = await page.textContent('.note.ok');
    await page.click('.top nav a:has-text("Torrents")');
    await page.fill('input[type="search"]', args.magnetName);
    await page.waitForFunction((name) => [...document.querySelectorAll('.torrent-name')].some((row) => row.textContent === name), args.magnetName);

    await page.click('.top nav a:has-text("Add")');
    await page.setInputFiles('input[type="file"]', args.torrentPath);
    await page.waitForSelector('.file-chooser');
    const files = await page.$$eval('.file-chooser li', (items) => items.map((item) => item.textContent));
    await page.click(`.file-chooser li:has-text("${args.skip}") input`);
    await page.uncheck('label:has-text("Start at once") input');
    await page.click('button[type="submit"]');
    await page.waitForSelector('.note.ok a');
    const fileAdded = await page.textContent('.note.ok');
    // The same file again is a duplicate, shown as such.
    await page.click('.top nav a:has-text("Torrents")');
    await page.click('.top nav a:has-text("Add")');
    await page.setInputFiles('input[type="file"]', args.torrentPath);
    await page.waitForSelector('.preview .note.warning');
    const duplicate = await page.textContent('.preview .note.warning');
    return { magnetAdded, files, fileAdded, duplicate };
  },

  /** The list's progress bar of `name` rising to 100% with no reload. */
  async progress() {
    const page = await openPage();
    await signedIn(page);
    await page.fill('input[type="search"]', args.name);
    const row = `.torrent-row:has(.torrent-name:text-is("${args.name}")) [role="progressbar"]`;
    await page.waitForSelector(row);
    // Only now is the seeder introduced (once: a second call can delay the
    // metadata on qBittorrent 5.1), through the API as any client would.
    const introduced = await page.evaluate(async ({ hash, peer, token }) => {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'mutation($h: [String!]!, $p: [String!]!) { addPeers(hashes: $h, peers: $p) { hash } }', variables: { h: [hash], p: [peer] } }),
      });
      return response.json();
    }, args);
    if (introduced.errors) throw new Error(`addPeers: ${JSON.stringify(introduced.errors)}`);
    let navigations = 0;
    page.on('framenavigated', () => { navigations += 1; });
    const values = [];
    const deadline = Date.now() + 90000;
    while (Date.now() < deadline) {
      const value = Number(await page.getAttribute(row, 'aria-valuenow'));
      if (values.at(-1) !== value) values.push(value);
      if (value >= 100) break;
      await page.waitForTimeout(100);
    }
    return { values, navigations };
  },

  /** Search the fake indexers and send the first result to `library`. */
  async search() {
    const page = await openPage();
    await signedIn(page, args.token, '#/search');
    await page.fill('input[name="query"]', args.query);
    await page.click('button:has-text("Search")');
    await page.waitForSelector('.result');
    const results = await page.$$eval('.result', (items) => items.map((item) => ({
      name: item.querySelector('.result-name').textContent,
      facts: [...item.querySelectorAll('.facts-line .tag')].map((tag) => tag.textContent),
      button: item.querySelector('.result-actions button').textContent.trim(),
    })));
    const failures = await page.$$eval('.note.warning', (notes) => notes.map((note) => note.textContent));
    const first = page.locator('.result').first();
    await first.locator('select').selectOption(args.library).catch(() => {});
    await first.locator(`button:has-text("Download to ${args.library}")`).click();
    await first.locator('.outcome.ok a').waitFor();
    const hash = (await first.locator('.outcome.ok a').getAttribute('href')).split('/').pop();
    return { results, failures, hash };
  },

  /** Filter and sort a long list, then stop every torrent shown at once. */
  async bulk() {
    const page = await openPage({ width: 1280, height: 900 });
    await signedIn(page);
    await waitForCount(page, `${args.total.toLocaleString('en-US')} torrents`);
    const drawnRows = await page.$$eval('.torrent-row', (rows) => rows.length);
    await page.selectOption('label:has-text("Sort by") select', 'NAME');
    await page.click('button.direction');
    await waitForList(page, '{"field":"NAME","direction":"ASC"}');
    const ascending = await rowNames(page);
    await page.click('button.direction');
    await waitForList(page, '{"field":"NAME","direction":"DESC"}');
    const descending = await rowNames(page);
    await page.fill('input[type="search"]', args.word);
    await waitForList(page, `"search":"${args.word}"`);
    await waitForCount(page, `${args.matching} torrents`);
    const filtered = await rowNames(page);
    await page.check('.list-head input[type="checkbox"]');
    await page.click('.batch button:has-text("Stop")');
    await page.waitForSelector('.batch .outcome');
    const outcome = await page.textContent('.batch .outcome');
    await page.selectOption('label:has-text("State") select', 'PAUSED');
    await waitForList(page, '"state":"PAUSED"');
    await waitForCount(page, `${args.matching} torrents`);
    const stoppedStates = await page.$$eval('.torrent-row .state', (states) => [...new Set(states.map((state) => state.textContent))]);
    return { drawnRows, ascending, descending, filtered, outcome, stoppedStates };
  },

  /** A name that is HTML must show as the text it is, in the list and on its page. */
  async hostile() {
    const page = await openPage();
    await signedIn(page);
    await page.fill('input[type="search"]', 'onerror');
    await page.waitForSelector('.torrent-name');
    const listed = await page.textContent('.torrent-name');
    const imagesInList = await page.$$eval('.rows img', (images) => images.length);
    await page.click('.torrent-name');
    await page.waitForSelector('.torrent-title');
    const title = await page.textContent('.torrent-title');
    const imagesOnPage = await page.$$eval('main img', (images) => images.length);
    const handlers = await page.$$eval('[onerror], [onload], script:not([src])', (found) => found.length);
    await page.waitForTimeout(500);
    const headers = await page.evaluate(async () => {
      const response = await fetch('/');
      return { csp: response.headers.get('content-security-policy'), type: response.headers.get('content-type') };
    });
    return { listed, title, imagesInList, imagesOnPage, handlers, headers };
  },

  /** The main screens at desktop and phone width, into `directory`. */
  async screenshots() {
    const shots = [];
    for (const [label, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
      const page = await openPage(viewport);
      await signedIn(page);
      await page.waitForSelector('.torrent-row');
      await page.waitForTimeout(600);
      const shoot = async (screen) => {
        const path = `${args.directory}/${screen}-${label}.png`;
        await page.screenshot({ path });
        shots.push(path);
      };
      await shoot('list');
      await page.goto(`${args.url}/#/torrent/${args.hash}`);
      await page.waitForSelector('.files');
      await page.waitForTimeout(300);
      await shoot('torrent');
      await page.goto(`${args.url}/#/add`);
      await page.fill('input[name="source"]', args.magnet);
      await page.waitForSelector('.preview');
      await shoot('add');
      await page.goto(`${args.url}/#/search`);
      await page.fill('input[name="query"]', args.query);
      await page.click('button:has-text("Search")');
      await page.waitForSelector('.result');
      await shoot('search');
      await page.context().close();
    }
    return { shots };
  },

  /**
   * Time from opening the page (signed in) to the first drawn row, and the
   * frames while progress streams in, over `seconds`.
   */
  async performance() {
    const page = await openPage({ width: 1280, height: 900 });
    await page.goto(`${args.url}/`);
    await page.evaluate((token) => sessionStorage.setItem('torrentql.token', token), args.token);
    const loads = [];
    for (let run = 0; run < args.runs; run += 1) {
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll('.torrent-row').length > 0, null, { timeout: 60000 });
      loads.push(await page.evaluate(() => performance.now()));
      const count = await page.textContent('.count');
      if (!count.includes(args.total.toLocaleString('en-US'))) throw new Error(`the list shows ${count}`);
    }
    let framesReceived = 0;
    page.on('websocket', (socket) => socket.on('framereceived', () => { framesReceived += 1; }));
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('.torrent-row').length > 0, null, { timeout: 60000 });
    // The list's snapshot is in; what comes now is changes.
    await page.waitForTimeout(2000);
    const frames = await page.evaluate((seconds) => new Promise((resolve) => {
      const gaps = [];
      const longTasks = [];
      // Proof the changes reach the rows in sight while frames are timed.
      let rowChanges = 0;
      const watching = new MutationObserver((records) => { rowChanges += records.length; });
      watching.observe(document.querySelector('.rows'), { subtree: true, childList: true, characterData: true });
      new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((entry) => entry.duration)))
        .observe({ type: 'longtask', buffered: false });
      // Frame times are the frames' own (the first one starts the clock).
      let last = null;
      let end = null;
      const tick = (now) => {
        if (last == null) end = now + seconds * 1000;
        else gaps.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(tick);
        else {
          watching.disconnect();
          resolve({ gaps, longTasks, rowChanges });
        }
      };
      requestAnimationFrame(tick);
    }), args.seconds);
    const notes = await page.$$eval('.note', (found) => found.map((note) => note.textContent));
    return { loads, ...frames, notes, framesReceived };
  },
};

let output;
try {
  output = { ...(await scenarios[scenario]()), ...seen };
} catch (error) {
  output = { error: String(error?.stack ?? error), ...seen };
  process.exitCode = 1;
} finally {
  await browser.close();
}
console.log(JSON.stringify(output));
