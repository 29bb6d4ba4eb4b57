// The UI's shell: signed out it shows the sign-in page; signed in, the
// header, the status bar and the view the address names (#/torrents,
// #/torrent/<hash>, #/add, #/search).
import { render } from './vendor/preact.mjs';
import { useEffect, useState } from './vendor/preact-hooks.mjs';
import { graphql, session } from './api.js';
import { html, useRoute } from './components.js';
import { SignIn } from './views/signin.js';
import { TorrentList } from './views/torrents.js';
import { TorrentDetails } from './views/torrent.js';
import { AddTorrent } from './views/add.js';
import { Search } from './views/search.js';
import { StatusBar } from './views/status.js';

const VIEWS = [
  ['torrents', 'Torrents'],
  ['add', 'Add'],
  ['search', 'Search'],
];

function App() {
  const [signedIn, setSignedIn] = useState(() => session.token != null);
  const [reason, setReason] = useState(null);
  const [viewer, setViewer] = useState(null);
  const [view, argument] = useRoute();

  useEffect(() => session.listen(({ signedIn, reason }) => {
    setSignedIn(signedIn);
    setReason(reason ?? null);
    if (!signedIn) setViewer(null);
  }), []);

  useEffect(() => {
    if (!signedIn) return undefined;
    let current = true;
    graphql('{ viewer { subject isAdmin expiresAt } }')
      .then(({ viewer }) => {
        if (!current) return;
        if (!viewer.isAdmin) session.end(`${viewer.subject} is not an administrator: torrentql is for administrators only.`);
        else setViewer(viewer);
      })
      .catch(() => {});
    return () => {
      current = false;
    };
  }, [signedIn]);

  // End the session when the token does, rather than at the next failure.
  useEffect(() => {
    if (!viewer?.expiresAt) return undefined;
    const left = Date.parse(viewer.expiresAt) - Date.now();
    const timer = setTimeout(() => session.end('Your session has expired. Sign in again.'), Math.max(0, left));
    return () => clearTimeout(timer);
  }, [viewer]);

  if (!signedIn) return html`<${SignIn} reason=${reason} />`;
  if (!viewer) return html`<p class="boot">Signing in…</p>`;

  const page = {
    torrents: () => html`<${TorrentList} />`,
    torrent: () => html`<${TorrentDetails} hash=${argument} />`,
    add: () => html`<${AddTorrent} />`,
    search: () => html`<${Search} />`,
  }[view] ?? (() => html`<p class="note error">No page "${view}".</p>`);

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
