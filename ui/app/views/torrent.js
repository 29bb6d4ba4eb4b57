// One torrent: its state (live from `torrentProgress`), files as a tree
// with priorities, trackers, peers and library (asked again every few
// seconds), and what can be done to it: start, stop, recheck, move,
// rename, speed limits, category, delete.
import { useEffect, useState } from '../vendor/preact-hooks.mjs';
import { graphql, request, subscribe } from '../api.js';
import { Busy, Confirm, ErrorNote, Notice, html, useAction } from '../components.js';
import * as format from '../format.js';
import { LIST_FIELDS } from './torrents.js';

const DETAILS = `query TorrentDetails($hash: String!) {
  torrent(hash: $hash) {
    ${LIST_FIELDS} savePath contentPath completedAt downloaded uploaded downloadLimit uploadLimit
    sequentialDownload forceStart queuePosition fileSelectionPending magnetUri
    library { name }
    release { title year resolution source videoCodec hdr audioCodecs seasons episodes seasonPack releaseGroup }
    fileTree { path name depth index size progress priority }
    trackers { url status tier peers seeds leechers message }
    connectedPeers { address client connection country countryCode progress downloadSpeed uploadSpeed }
  }
  categories { name }
}`;

const LIVE = `subscription TorrentLive($hashes: [String!]) {
  torrentProgress(hashes: $hashes) { torrents { ${LIST_FIELDS} } removed }
}`;

const REFRESH_MS = 3000;
const PRIORITIES = ['SKIP', 'NORMAL', 'HIGH', 'MAXIMUM'];
const PRIORITY_LABELS = { SKIP: 'Skip', NORMAL: 'Normal', HIGH: 'High', MAXIMUM: 'Maximum' };

function useTorrent(hash) {
  const [details, setDetails] = useState(null);
  const [live, setLive] = useState(null);
  const [error, setError] = useState(null);
  const [gone, setGone] = useState(false);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    const load = async () => {
      try {
        const data = await graphql(DETAILS, { hash });
        if (!current) return;
        if (data.torrent == null) setGone(true);
        else setDetails(data);
        setError(null);
      } catch (failure) {
        if (!current) return;
        if (failure.code === 'NOT_FOUND') setGone(true);
        else setError(failure);
      }
    };
    load();
    const timer = setInterval(() => document.visibilityState === 'visible' && load(), REFRESH_MS);
    const unsubscribe = subscribe(LIVE, { hashes: [hash] }, ({ torrentProgress: event }) => {
      if (event.removed.includes(hash)) setGone(true);
      const changed = event.torrents.find((torrent) => torrent.hash === hash);
      if (changed) setLive(changed);
    }, setError);
    return () => {
      current = false;
      clearInterval(timer);
      unsubscribe();
    };
  }, [hash, version]);
  const torrent = details?.torrent ? { ...details.torrent, ...(live ?? {}) } : null;
  return { torrent, categories: details?.categories ?? [], error, gone, reload: () => setVersion((value) => value + 1) };
}

function filesUnder(tree, row) {
  if (row.index != null) return [row.index];
  const prefix = `${row.path}/`;
  return tree.filter((each) => each.index != null && each.path.startsWith(prefix)).map((each) => each.index);
}

function FileTree({ hash, tree, onChanged }) {
  const [change, run] = useAction(async (indexes, priority) => {
    await graphql('mutation($hash: String!, $indexes: [Int!]!, $priority: FilePriority!) { setFilePriority(hash: $hash, indexes: $indexes, priority: $priority) { index priority } }',
      { hash, indexes, priority });
    onChanged();
    return true;
  });
  if (tree.length === 0) return html`<${Notice}>No files yet: the metadata has not arrived.<//>`;
  return html`<div class="table-wrap"><table class="files">
    <thead><tr><th>Name</th><th>Size</th><th>Progress</th><th>Priority</th></tr></thead>
    <tbody>${tree.map((row) => html`<tr class=${row.index == null ? 'folder' : 'file'} data-path=${row.path}>
      <td><span class="indent" style=${{ paddingLeft: `${row.depth * 1.1}em` }}>${row.index == null ? '▸ ' : ''}${row.name}</span></td>
      <td>${format.bytes(row.size)}</td>
      <td>${format.percent(row.progress)}</td>
      <td><select aria-label=${`Priority of ${row.path}`} value=${row.priority ?? ''} disabled=${change.busy}
          onChange=${(event) => event.target.value && run(filesUnder(tree, row), event.target.value)}>
        ${row.priority == null && html`<option value="">Mixed</option>`}
        ${PRIORITIES.map((priority) => html`<option value=${priority}>${PRIORITY_LABELS[priority]}</option>`)}
      </select></td>
    </tr>`)}</tbody>
  </table></div>
  <${ErrorNote} error=${change.error} />`;
}

function Trackers({ hash, trackers, onChanged }) {
  const [urls, setUrls] = useState('');
  const [change, run] = useAction(async (mutation, variables) => {
    await graphql(mutation, { hash, ...variables });
    onChanged();
    return true;
  });
  const add = async (event) => {
    event.preventDefault();
    const list = urls.split(/\s+/).filter(Boolean);
    if (await run('mutation($hash: String!, $urls: [String!]!) { addTrackers(hash: $hash, urls: $urls) { url } }', { urls: list })) setUrls('');
  };
  return html`<div class="table-wrap"><table>
    <thead><tr><th>Tracker</th><th>Status</th><th>Tier</th><th>Peers</th><th>Message</th><th></th></tr></thead>
    <tbody>${trackers.map((tracker) => html`<tr>
      <td class="wrap">${tracker.url}</td><td>${tracker.status.replaceAll('_', ' ').toLowerCase()}</td>
      <td>${tracker.tier}</td><td>${tracker.peers ?? '–'}</td><td class="wrap">${tracker.message}</td>
      <td>${tracker.url.includes('://') && html`<button type="button" class="plain" disabled=${change.busy}
        onClick=${() => run('mutation($hash: String!, $urls: [String!]!) { removeTrackers(hash: $hash, urls: $urls) { url } }', { urls: [tracker.url] })}>Remove</button>`}</td>
    </tr>`)}</tbody>
  </table></div>
  <form class="row-form" onSubmit=${add}>
    <label class="grow">Add trackers (one per line)
      <textarea rows="2" value=${urls} onInput=${(event) => setUrls(event.target.value)} placeholder="udp://tracker.example:1337/announce"></textarea>
    </label>
    <button type="submit" disabled=${!urls.trim() || change.busy}>Add</button>
  </form>
  <${ErrorNote} error=${change.error} />`;
}

function Peers({ peers, onChanged }) {
  const [ban, run] = useAction(async (address) => {
    await graphql('mutation($peers: [String!]!) { banPeers(peers: $peers) }', { peers: [address] });
    onChanged();
    return true;
  });
  if (peers.length === 0) return html`<${Notice}>No peers connected.<//>`;
  return html`<div class="table-wrap"><table>
    <thead><tr><th>Address</th><th>Client</th><th>Country</th><th>Progress</th><th>↓</th><th>↑</th><th></th></tr></thead>
    <tbody>${peers.map((peer) => html`<tr>
      <td>${peer.address}</td><td>${peer.client || '–'}</td><td>${peer.country ?? '–'}</td>
      <td>${format.percent(peer.progress)}</td><td>${format.speed(peer.downloadSpeed)}</td><td>${format.speed(peer.uploadSpeed)}</td>
      <td><button type="button" class="plain" disabled=${ban.busy} onClick=${() => run(peer.address)}>Ban</button></td>
    </tr>`)}</tbody>
  </table></div>
  <${ErrorNote} error=${ban.error} />`;
}

/** A text field with a button that runs `action(value)`. */
function EditField({ label, initial, action, button, type = 'text', placeholder }) {
  const [value, setValue] = useState(initial ?? '');
  const [state, run] = useAction(action);
  useEffect(() => setValue(initial ?? ''), [initial]);
  return html`<form class="row-form" onSubmit=${(event) => {
    event.preventDefault();
    run(value);
  }}>
    <label class="grow">${label}<input type=${type} value=${value} placeholder=${placeholder} onInput=${(event) => setValue(event.target.value)} /></label>
    <button type="submit" disabled=${state.busy}>${state.busy ? html`<${Busy} label="…" />` : button}</button>
    <${ErrorNote} error=${state.error} />
    ${state.result?.message && html`<span class="outcome ok" role="status">${state.result.message}</span>`}
  </form>`;
}

/** A batch mutation for one torrent: its own error is thrown. */
async function forOne(mutation, variables) {
  const { errors } = await request(mutation, variables);
  if (errors.length > 0) throw errors[0];
}

const MOVE = 'mutation($h: [String!]!, $p: String!) { moveTorrents(hashes: $h, savePath: $p) { hash } }';
const RENAME = 'mutation($hash: String!, $name: String!) { renameTorrent(hash: $hash, name: $name) { hash name } }';
/** `setTorrentSpeedLimits` of one direction (`download` or `upload`); the other stays. */
const speedLimit = (direction) => `mutation($h: [String!]!, $l: Bytes) { setTorrentSpeedLimits(hashes: $h, ${direction}Limit: $l) { hash } }`;

const kib = (bytes) => (bytes ? String(Math.round(bytes / 1024)) : '');
/** KiB/s typed as text to the `Bytes` the API takes (0 for none). */
const bytesPerSecond = (text) => (text ? Math.round(Number(text) * 1024) : 0);

export function TorrentDetails({ hash }) {
  const { torrent, categories, error, gone, reload } = useTorrent(hash);
  const [tab, setTab] = useState('files');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [action, run] = useAction(async (mutation, variables = {}) => {
    await forOne(mutation, { h: [hash], ...variables });
    reload();
    return true;
  });

  /** An EditField's action: `change(value)`, then the torrent asked again. */
  const changeThenReload = (message, change) => async (value) => {
    await change(value);
    reload();
    return { message };
  };

  if (gone) return html`<${Notice} kind="warning">This torrent is no longer in qBittorrent. <a href="#/torrents">Back to the list</a><//>`;
  if (!torrent) return html`${error ? html`<${ErrorNote} error=${error} />` : html`<${Busy} label="Loading the torrent…" />`}`;

  const stopped = format.isStopped(torrent.state);
  const kind = format.stateKind(torrent.state);
  const progress = Math.round(torrent.progress * 1000) / 10;
  const facts = format.releaseFacts(torrent.release);
  return html`<article class="details">
    <p><a href="#/torrents">← All torrents</a></p>
    <h1 class="torrent-title">${torrent.name}</h1>
    <div class="bar big" role="progressbar" aria-label="Progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${progress}>
      <div class="fill" style=${{ width: `${progress}%` }}></div>
    </div>
    ${torrent.state.includes('METADATA') && html`<p><${Busy} label="Waiting for the torrent's metadata from its peers; its files appear then." /></p>`}
    <dl class="facts">
      <div><dt>State</dt><dd><span class=${`state ${kind}`}>${format.state(torrent.state)}</span>${torrent.fileSelectionPending ? ' (waiting for its metadata to choose files)' : ''}</dd></div>
      <div><dt>Progress</dt><dd>${format.percent(torrent.progress)} of ${format.bytes(torrent.size)}</dd></div>
      <div><dt>Speed</dt><dd>↓ ${format.speed(torrent.downloadSpeed)} ↑ ${format.speed(torrent.uploadSpeed)}</dd></div>
      <div><dt>Time left</dt><dd>${torrent.progress >= 1 ? 'done' : format.duration(torrent.eta)}</dd></div>
      <div><dt>Ratio</dt><dd>${torrent.ratio.toFixed(2)}</dd></div>
      <div><dt>Seeds / peers</dt><dd>${torrent.seeds} / ${torrent.peers}</dd></div>
      <div><dt>Library</dt><dd>${torrent.library?.name ?? 'none'}</dd></div>
      <div><dt>Category</dt><dd>${torrent.category ?? 'none'}</dd></div>
      <div><dt>Saved in</dt><dd class="wrap">${torrent.savePath}</dd></div>
      <div><dt>Added</dt><dd>${format.dateTime(torrent.addedAt)}</dd></div>
      ${facts.length > 0 && html`<div><dt>Release</dt><dd>${facts.join(' · ')}</dd></div>`}
      <div><dt>Hash</dt><dd class="wrap mono">${torrent.hash}</dd></div>
    </dl>
    <div class="actions">
      ${stopped
        ? html`<button type="button" disabled=${action.busy} onClick=${() => run('mutation($h: [String!]!) { resumeTorrents(hashes: $h) { hash } }')}>Start</button>`
        : html`<button type="button" disabled=${action.busy} onClick=${() => run('mutation($h: [String!]!) { pauseTorrents(hashes: $h) { hash } }')}>Stop</button>`}
      <button type="button" disabled=${action.busy} onClick=${() => run('mutation($h: [String!]!) { recheckTorrents(hashes: $h) { hash } }')}>Recheck</button>
      <button type="button" disabled=${action.busy} onClick=${() => run('mutation($h: [String!]!) { reannounceTorrents(hashes: $h) { hash } }')}>Reannounce</button>
      <label class="inline"><input type="checkbox" checked=${torrent.sequentialDownload} disabled=${action.busy}
        onChange=${(event) => run('mutation($h: [String!]!, $on: Boolean!) { setSequentialDownload(hashes: $h, enabled: $on) { hash } }', { on: event.target.checked })} /> In order</label>
      <label class="inline">Category
        <select value=${torrent.category ?? ''} disabled=${action.busy}
          onChange=${(event) => run('mutation($h: [String!]!, $c: String!) { setTorrentsCategory(hashes: $h, category: $c) { hash } }', { c: event.target.value })}>
          <option value="">None</option>
          ${categories.map((category) => html`<option value=${category.name}>${category.name}</option>`)}
        </select>
      </label>
      <button type="button" class="danger" onClick=${() => setConfirmDelete(true)}>Delete…</button>
      ${action.busy && html`<${Busy} label="Working…" />`}
    </div>
    ${confirmDelete && html`<${Confirm} question="Delete this torrent from qBittorrent?" onCancel=${() => setConfirmDelete(false)}>
      <button type="button" class="danger" disabled=${action.busy} onClick=${() => run('mutation($h: [String!]!) { deleteTorrents(hashes: $h, deleteFiles: false) { hash } }')}>Keep files, delete torrent</button>
      <button type="button" class="danger" disabled=${action.busy} onClick=${() => run('mutation($h: [String!]!) { deleteTorrents(hashes: $h, deleteFiles: true) { hash } }')}>Delete with files</button>
    <//>`}
    <${ErrorNote} error=${action.error ?? error} />
    <details class="edit">
      <summary>Move, rename, limits</summary>
      <${EditField} label="Save path" initial=${torrent.savePath} button="Move"
        action=${changeThenReload('Moved.', (savePath) => forOne(MOVE, { h: [hash], p: savePath }))} />
      <${EditField} label="Name" initial=${torrent.name} button="Rename"
        action=${changeThenReload('Renamed.', (name) => graphql(RENAME, { hash, name }))} />
      ${['download', 'upload'].map((direction) => html`<${EditField} key=${direction} label=${`${direction === 'download' ? 'Download' : 'Upload'} limit (KiB/s, empty for none)`}
        type="number" initial=${kib(torrent[`${direction}Limit`])} button="Set"
        action=${changeThenReload('Limit set.', (value) => forOne(speedLimit(direction), { h: [hash], l: bytesPerSecond(value) }))} />`)}
    </details>
    <div class="tabs" role="group" aria-label="Show">
      ${[['files', `Files (${torrent.fileTree.filter((row) => row.index != null).length})`], ['trackers', `Trackers (${torrent.trackers.length})`], ['peers', `Peers (${torrent.connectedPeers.length})`]]
        .map(([name, label]) => html`<button type="button" aria-pressed=${tab === name} onClick=${() => setTab(name)}>${label}</button>`)}
    </div>
    <section>
      ${tab === 'files' && html`<${FileTree} hash=${hash} tree=${torrent.fileTree} onChanged=${reload} />`}
      ${tab === 'trackers' && html`<${Trackers} hash=${hash} trackers=${torrent.trackers} onChanged=${reload} />`}
      ${tab === 'peers' && html`<${Peers} peers=${torrent.connectedPeers} onChanged=${reload} />`}
    </section>
  </article>`;
}
