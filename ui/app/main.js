// The UI's shell: signed out it shows the sign-in page; signed in, the
// header, the status bar and the view the address names (#/torrents,
// #/torrent/<hash>, #/add, #/search).
import { render } from './vendor/preact.mjs';
import { useEffect, useState } from './vendor/preact-hooks.mjs';
import { graphql, session } from './api.js';
import { ErrorNote, html, useRoute } from './components.js';
import { SignIn } from './views/signin.js';
import { TorrentList } from './views/torrents.js';
import { TorrentDetails } from './views/torrent.js';
import { AddTorrent } from './views/add.js';
import { Search } from './views/search.js';
import { StatusBar } from './views/status.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

const VIEWS = [
  ['torrents', 'Torrents'],
  ['add', 'Add'],
  ['search', 'Search'],
];

function App() {
  const [signedIn, setSignedIn] = useState(() => session.token != null);
  const [reason, setReason] = useState(null);
  const [viewer, setViewer] = useState(null);
  const [viewerError, setViewerError] = useState(null);
  const [attempt, setAttempt] = useState(0);
  const [view, argument] = useRoute();

  useEffect(() => session.listen(({ signedIn, reason }) => {
    setSignedIn(signedIn);
    setReason(reason ?? null);
    if (!signedIn) setViewer(null);
  }), []);

  useEffect(() => {
    if (!signedIn) return undefined;
    let current = true;
    setViewerError(null);
    graphql('{ viewer { subject isAdmin expiresAt } }')
      .then(({ viewer }) => {
        if (!current) return;
        if (!viewer.isAdmin) session.end(`${viewer.subject} is not an administrator: torrentql is for administrators only.`);
        else setViewer(viewer);
      })
      // An ended session shows the sign-in page; anything else, here.
      .catch((error) => current && setViewerError(error));
    return () => {
      current = false;
    };
  }, [signedIn, attempt]);

  // End the session when the token does, rather than at the next failure
  // (checking again after the longest delay a timer takes, ~24.8 days).
  useEffect(() => {
    if (!viewer?.expiresAt) return undefined;
    let timer;
    const check = () => {
      const left = Date.parse(viewer.expiresAt) - Date.now();
      if (left <= 0) session.end('Your session has expired. Sign in again.');
      else timer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
    };
    check();
    return () => clearTimeout(timer);
  }, [viewer]);

  if (!signedIn) return html`<${SignIn} reason=${reason} />`;
  if (!viewer) {
    if (!viewerError) return html`<p class="boot">Signing in…</p>`;
    return html`<main class="signin">
      <${ErrorNote} error=${viewerError} />
      <button type="button" onClick=${() => setAttempt(attempt + 1)}>Try again</button>
      <button type="button" class="plain" onClick=${() => session.end()}>Sign out</button>
    </main>`;
  }

  const pages = new Map([
    ['torrents', () => html`<${TorrentList} />`],
    // Keyed by hash: another torrent's page starts afresh.
    ['torrent', () => html`<${TorrentDetails} key=${argument} hash=${argument} />`],
    ['add', () => html`<${AddTorrent} />`],
    ['search', () => html`<${Search} />`],
  ]);
  const page = pages.get(view) ?? (() => html`<p class="note error">No page "${view}".</p>`);

  return html`
    <header class="top">
      <a class="brand" href="#/torrents">torrentql</a>
      <nav aria-label="Main">
        ${VIEWS.map(([name, label]) => html`<a href=${`#/${name}`} aria-current=${view === name || (view === 'torrent' && name === 'torrents') ? 'page' : null}>${label}</a>`)}
      </nav>
      <span class="who" title=${`Signed in until ${new Date(viewer.expiresAt ?? 0).toLocaleString()}`}>${viewer.subject}</span>
      <button type="button" class="plain" onClick=${() => session.end()}>Sign out</button>
    </header>
    <main id="main">${page()}</main>
    <${StatusBar} />
  `;
}

const root = document.getElementById('app');
// The boot message goes; Preact would keep what it did not render.
root.replaceChildren();
render(html`<${App} />`, root);
