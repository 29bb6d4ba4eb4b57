// The torrent list: one page of up to 10,000 torrents from the `torrents`
// connection (sorted and filtered by torrentql), drawn as a virtual list
// (only the rows in sight exist in the page), kept live by a
// `torrentProgress` subscription with the same filter. Rows can be
// selected and acted on together.
import { useEffect, useMemo, useRef, useState } from '../vendor/preact-hooks.mjs';
import { graphql, request, subscribe } from '../api.js';
import { Busy, Confirm, ErrorNote, Notice, batchOutcome, html, useAction, useDebounced, useLoad } from '../components.js';
import * as format from '../format.js';

export const LIST_FIELDS = 'hash name size progress state downloadSpeed uploadSpeed eta category tags ratio seeds peers addedAt';

const LIST = `query TorrentList($where: TorrentWhereInput, $orderBy: TorrentOrderBy) {
  torrents(where: $where, orderBy: $orderBy, first: 10000) { totalCount nodes { ${LIST_FIELDS} } }
}`;

const PROGRESS = `subscription TorrentListProgress($where: TorrentWhereInput) {
  torrentProgress(where: $where) { snapshot torrents { ${LIST_FIELDS} } removed }
}`;

const OPTIONS = '{ categories { name } tags libraries { name } }';

const ORDER_FIELDS = [
  ['ADDED_AT', 'Added'],
  ['NAME', 'Name'],
  ['SIZE', 'Size'],
  ['PROGRESS', 'Progress'],
  ['STATE', 'State'],
  ['DOWNLOAD_SPEED', 'Download speed'],
  ['UPLOAD_SPEED', 'Upload speed'],
  ['ETA', 'Time left'],
  ['RATIO', 'Ratio'],
  ['SEEDS', 'Seeds'],
  ['PEERS', 'Peers'],
  ['CATEGORY', 'Category'],
  ['COMPLETED_AT', 'Completed'],
  ['SAVE_PATH', 'Save path'],
  ['QUEUE_POSITION', 'Queue position'],
];

/** Orders that live updates change: the list is asked again now and then. */
const LIVE_ORDERS = new Set(['PROGRESS', 'STATE', 'DOWNLOAD_SPEED', 'UPLOAD_SPEED', 'ETA', 'RATIO', 'SEEDS', 'PEERS']);

const STATES = [
  ['ALL', 'All'],
  ['DOWNLOADING', 'Downloading'],
  ['SEEDING', 'Seeding'],
  ['COMPLETED', 'Completed'],
  ['PAUSED', 'Stopped'],
  ['ACTIVE', 'Active'],
  ['INACTIVE', 'Inactive'],
  ['STALLED', 'Stalled'],
  ['ERRORED', 'Errored'],
];

const ROW_HEIGHT = 64;
const OVERSCAN = 6;

/**
 * The torrents `where` and `orderBy` select, live: answers
 * `{ order, byHash, total, version, loading, error }`.
 */
function useLiveTorrents(where, orderBy) {
  const store = useRef({ order: [], byHash: new Map(), total: 0, key: null });
  const [version, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const key = JSON.stringify([where, orderBy]);

  useEffect(() => {
    let current = true;
    let reload = null;
    // Loads may overlap; only the latest one started is kept.
    let loads = 0;
    const bump = () => setVersion((value) => value + 1);
    const load = async () => {
      const started = ++loads;
      try {
        const { torrents } = await graphql(LIST, { where, orderBy });
        if (!current || started !== loads) return;
        store.current = {
          order: torrents.nodes.map((torrent) => torrent.hash),
          byHash: new Map(torrents.nodes.map((torrent) => [torrent.hash, torrent])),
          total: torrents.totalCount,
          key,
        };
        setError(null);
      } catch (failure) {
        if (current) setError(failure);
      }
      if (current) {
        setLoading(false);
        bump();
      }
    };
    const loadSoon = (delay) => {
      if (reload == null) reload = setTimeout(() => {
        reload = null;
        load();
      }, delay);
    };
    setLoading(true);
    load();
    let snapshots = 0;
    const unsubscribe = subscribe(PROGRESS, { where }, ({ torrentProgress: event }) => {
      const { byHash } = store.current;
      if (event.snapshot && snapshots++ > 0) {
        // A resync (qBittorrent came back): ask the list again.
        loadSoon(0);
        return;
      }
      // Past the first 10,000 a change is outside the page: not a reason
      // to ask for the page again.
      const whole = store.current.total <= store.current.order.length;
      let unknown = false;
      for (const torrent of event.torrents) {
        if (byHash.has(torrent.hash)) byHash.set(torrent.hash, torrent);
        else if (!event.snapshot && whole) unknown = true;
      }
      if (event.removed.length > 0) {
        const removed = new Set(event.removed);
        store.current.order = store.current.order.filter((hash) => !removed.has(hash));
        for (const hash of removed) byHash.delete(hash);
        store.current.total = Math.max(0, store.current.total - removed.size);
      }
      if (unknown) loadSoon(300);
      else if (LIVE_ORDERS.has(orderBy.field) && event.torrents.length > 0) loadSoon(3000);
      bump();
    }, (failure) => current && setError(failure));
    return () => {
      current = false;
      clearTimeout(reload);
      unsubscribe();
    };
  }, [key]);

  return { ...store.current, version, loading, error };
}

function TorrentRow({ torrent, index, count, selected, onToggle }) {
  const kind = format.stateKind(torrent.state);
  const progress = Math.round(torrent.progress * 1000) / 10;
  return html`<li class=${`torrent-row ${kind}`} style=${{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      data-hash=${torrent.hash} aria-setsize=${count} aria-posinset=${index + 1}>
    <input type="checkbox" checked=${selected} aria-label=${`Select ${torrent.name}`}
      onChange=${(event) => onToggle(torrent.hash, event.target.checked)} />
    <div class="torrent-main">
      <a class="torrent-name" href=${`#/torrent/${torrent.hash}`} title=${torrent.name}>${torrent.name}</a>
      <div class="torrent-meta">
        <span class=${`state ${kind}`}>${torrent.state.includes('METADATA') && html`<span class="spinner inline" aria-hidden="true"></span>`}${format.state(torrent.state)}</span>
        <span>${format.bytes(torrent.size)}</span>
        <span title="Download speed">↓ ${format.speed(torrent.downloadSpeed)}</span>
        <span title="Upload speed">↑ ${format.speed(torrent.uploadSpeed)}</span>
        ${torrent.progress < 1 && !format.isStopped(torrent.state) && html`<span title="Time left">${format.duration(torrent.eta)}</span>`}
        ${torrent.category && html`<span class="tag">${torrent.category}</span>`}
        ${torrent.tags.map((tag) => html`<span class="tag subtle">${tag}</span>`)}
      </div>
      <div class="bar" role="progressbar" aria-label=${`Progress of ${torrent.name}`}
          aria-valuemin="0" aria-valuemax="100" aria-valuenow=${progress}>
        <div class="fill" style=${{ width: `${progress}%` }}></div>
      </div>
    </div>
    <span class="percent">${format.percent(torrent.progress)}</span>
  </li>`;
}

/** Only the rows in sight (and a few around them) are drawn. */
function VirtualRows({ order, byHash, selection, onToggle }) {
  const scroller = useRef(null);
  const [view, setView] = useState({ top: 0, height: 800 });
  useEffect(() => {
    const element = scroller.current;
    const measure = () => setView({ top: element.scrollTop, height: element.clientHeight });
    measure();
    element.addEventListener('scroll', measure, { passive: true });
    const resize = new ResizeObserver(measure);
    resize.observe(element);
    return () => {
      element.removeEventListener('scroll', measure);
      resize.disconnect();
    };
  }, []);
  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(order.length, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  for (let index = first; index < last; index += 1) {
    const torrent = byHash.get(order[index]);
    if (torrent) {
      rows.push(html`<${TorrentRow} key=${torrent.hash} torrent=${torrent} index=${index} count=${order.length}
        selected=${selection.has(torrent.hash)} onToggle=${onToggle} />`);
    }
  }
  return html`<div class="rows" ref=${scroller} tabindex="-1">
    <ul class="rows-inner" aria-label="Torrents" style=${{ height: `${order.length * ROW_HEIGHT}px` }}>${rows}</ul>
  </div>`;
}

async function runBatch(action, hashes, extra) {
  const mutations = {
    start: ['Started', 'mutation($h: [String!]!) { done: resumeTorrents(hashes: $h) { hash state } }'],
    stop: ['Stopped', 'mutation($h: [String!]!) { done: pauseTorrents(hashes: $h) { hash state } }'],
    recheck: ['Recheck asked', 'mutation($h: [String!]!) { done: recheckTorrents(hashes: $h) { hash } }'],
    reannounce: ['Reannounced', 'mutation($h: [String!]!) { done: reannounceTorrents(hashes: $h) { hash } }'],
    forceStart: ['Force started', 'mutation($h: [String!]!) { done: setForceStart(hashes: $h, enabled: true) { hash } }'],
    delete: ['Deleted', 'mutation($h: [String!]!, $files: Boolean!) { done: deleteTorrents(hashes: $h, deleteFiles: $files) { hash } }'],
    category: ['Category set', 'mutation($h: [String!]!, $category: String!) { done: setTorrentsCategory(hashes: $h, category: $category) { hash category } }'],
    addTags: ['Tagged', 'mutation($h: [String!]!, $tags: [String!]!) { done: addTorrentTags(hashes: $h, tags: $tags) { hash tags } }'],
    removeTags: ['Untagged', 'mutation($h: [String!]!, $tags: [String!]!) { done: removeTorrentTags(hashes: $h, tags: $tags) { hash tags } }'],
  };
  const [label, mutation] = mutations[action];
  const { data, errors } = await request(mutation, { h: hashes, ...extra });
  return batchOutcome(label, data.done, errors);
}

function BatchBar({ selection, options, onDone, onClear }) {
  const [outcome, run] = useAction(runBatch);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleteFiles, setDeleteFiles] = useState(false);
  const [tags, setTags] = useState('');
  const hashes = [...selection];
  const act = async (action, extra = {}) => {
    const result = await run(action, hashes, extra);
    if (result) onDone(action, result);
  };
  const askDelete = () => {
    setDeleteFiles(false);
    setConfirmDelete(true);
  };
  const tagList = () => tags.split(',').map((tag) => tag.trim()).filter(Boolean);
  return html`<section class="batch" aria-label="Selected torrents">
    <strong>${hashes.length} selected</strong>
    <button type="button" onClick=${() => act('start')} disabled=${outcome.busy}>Start</button>
    <button type="button" onClick=${() => act('stop')} disabled=${outcome.busy}>Stop</button>
    <button type="button" onClick=${() => act('forceStart')} disabled=${outcome.busy}>Force start</button>
    <button type="button" onClick=${() => act('recheck')} disabled=${outcome.busy}>Recheck</button>
    <button type="button" onClick=${() => act('reannounce')} disabled=${outcome.busy}>Reannounce</button>
    <label class="inline">Category
      <select onChange=${(event) => event.target.value !== '-' && act('category', { category: event.target.value })}>
        <option value="-">Set…</option>
        <option value="">None</option>
        ${options.categories.map((category) => html`<option value=${category.name}>${category.name}</option>`)}
      </select>
    </label>
    <label class="inline">Tags
      <input value=${tags} placeholder="tag, another" onInput=${(event) => setTags(event.target.value)} list="known-tags" />
    </label>
    <datalist id="known-tags">${options.tags.map((tag) => html`<option value=${tag} />`)}</datalist>
    <button type="button" disabled=${!tags.trim() || outcome.busy} onClick=${() => act('addTags', { tags: tagList() })}>Add tags</button>
    <button type="button" disabled=${!tags.trim() || outcome.busy} onClick=${() => act('removeTags', { tags: tagList() })}>Remove tags</button>
    <button type="button" class="danger" onClick=${askDelete} disabled=${outcome.busy}>Delete…</button>
    <button type="button" class="plain" onClick=${onClear}>Clear selection</button>
    ${confirmDelete && html`<${Confirm} question=${`Delete ${hashes.length} torrent${hashes.length === 1 ? '' : 's'} from qBittorrent?`}
        onCancel=${() => setConfirmDelete(false)}>
      <label class="inline"><input type="checkbox" checked=${deleteFiles} onChange=${(event) => setDeleteFiles(event.target.checked)} /> Also delete their downloaded files</label>
      <button type="button" class="danger" disabled=${outcome.busy} onClick=${async () => {
        setConfirmDelete(false);
        await act('delete', { files: deleteFiles });
      }}>Delete</button>
    <//>`}
    ${outcome.busy && html`<${Busy} label="Working…" />`}
    <${ErrorNote} error=${outcome.error} />
    ${outcome.result && html`<span class=${`outcome ${outcome.result.kind}`} role="status">${outcome.result.message}</span>`}
  </section>`;
}

export function TorrentList() {
  const [search, setSearch] = useState('');
  const [state, setState] = useState('ALL');
  const [category, setCategory] = useState('');
  const [tag, setTag] = useState('');
  const [library, setLibrary] = useState('');
  const [field, setField] = useState('ADDED_AT');
  const [direction, setDirection] = useState('DESC');
  const [selection, setSelection] = useState(() => new Set());
  // A delete's outcome outlives the bar it came from (the selection goes).
  const [deleted, setDeleted] = useState(null);
  const settledSearch = useDebounced(search.trim(), 250);
  const [options] = useLoad(() => graphql(OPTIONS), []);
  const known = options.result ?? { categories: [], tags: [], libraries: [] };

  const where = useMemo(() => {
    const chosen = { state };
    if (settledSearch) chosen.search = settledSearch;
    if (category) chosen.category = category === '(none)' ? '' : category;
    if (tag) chosen.tags = [tag];
    if (library) chosen.library = library;
    return chosen;
  }, [state, settledSearch, category, tag, library]);
  const orderBy = useMemo(() => ({ field, direction }), [field, direction]);
  const list = useLiveTorrents(where, orderBy);
  // Another filter or order shows other rows: what was selected is let go,
  // so an action never reaches torrents out of sight.
  useEffect(() => setSelection(new Set()), [JSON.stringify([where, orderBy])]);

  const toggle = (hash, on) => setSelection((previous) => {
    const next = new Set(previous);
    if (on) next.add(hash);
    else next.delete(hash);
    return next;
  });
  const allSelected = list.order.length > 0 && list.order.every((hash) => selection.has(hash));

  return html`<section class="torrents" data-loaded=${list.loading ? '' : list.key}>
    <div class="filters" role="search">
      <label class="grow">Search names
        <input type="search" value=${search} placeholder="Words in any order" onInput=${(event) => setSearch(event.target.value)} />
      </label>
      <label>State
        <select value=${state} onChange=${(event) => setState(event.target.value)}>
          ${STATES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </label>
      <label>Category
        <select value=${category} onChange=${(event) => setCategory(event.target.value)}>
          <option value="">Any</option>
          <option value="(none)">None</option>
          ${known.categories.map((each) => html`<option value=${each.name}>${each.name}</option>`)}
        </select>
      </label>
      <label>Tag
        <select value=${tag} onChange=${(event) => setTag(event.target.value)}>
          <option value="">Any</option>
          ${known.tags.map((each) => html`<option value=${each}>${each}</option>`)}
        </select>
      </label>
      <label>Library
        <select value=${library} onChange=${(event) => setLibrary(event.target.value)}>
          <option value="">Any</option>
          ${known.libraries.map((each) => html`<option value=${each.name}>${each.name}</option>`)}
        </select>
      </label>
      <label>Sort by
        <select value=${field} onChange=${(event) => setField(event.target.value)}>
          ${ORDER_FIELDS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </label>
      <button type="button" class="direction" aria-label=${direction === 'ASC' ? 'Ascending; switch to descending' : 'Descending; switch to ascending'}
        onClick=${() => setDirection(direction === 'ASC' ? 'DESC' : 'ASC')}>${direction === 'ASC' ? '↑ Ascending' : '↓ Descending'}</button>
    </div>
    <div class="list-head">
      <label class="inline"><input type="checkbox" checked=${allSelected} disabled=${list.order.length === 0}
        onChange=${(event) => setSelection(event.target.checked ? new Set(list.order) : new Set())} /> Select all shown</label>
      <span class="count" role="status">${list.loading ? html`<${Busy} label="Loading…" />` : `${list.order.length.toLocaleString()} torrent${list.order.length === 1 ? '' : 's'}${list.total > list.order.length ? ` of ${list.total.toLocaleString()} (the first 10,000)` : ''}`}</span>
    </div>
    ${selection.size > 0 && html`<${BatchBar} selection=${selection} options=${known}
      onDone=${(action, outcome) => {
        if (action !== 'delete') return;
        setDeleted(outcome);
        setSelection(new Set());
      }} onClear=${() => setSelection(new Set())} />`}
    ${deleted && html`<p class=${`outcome ${deleted.kind}`} role="status">${deleted.message}
      <button type="button" class="plain" aria-label="Dismiss" onClick=${() => setDeleted(null)}>×</button></p>`}
    <${ErrorNote} error=${list.error} />
    ${!list.loading && list.order.length === 0 && !list.error && html`<${Notice}>No torrents here. <a href="#/add">Add one</a> or <a href="#/search">search</a>.<//>`}
    <${VirtualRows} order=${list.order} byHash=${list.byHash} selection=${selection} onToggle=${toggle} version=${list.version} />
  </section>`;
}
