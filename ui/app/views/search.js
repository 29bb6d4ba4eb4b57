// Search: every configured indexer from one box, results with their size,
// seeders, age, provider and the release facts torrentql read from the
// name; each can be sent into a library in one click. Providers that
// failed are listed, not hidden.
import { useState } from '../vendor/preact-hooks.mjs';
import { graphql } from '../api.js';
import { Busy, ErrorNote, Notice, html, useAction, useLoad } from '../components.js';
import * as format from '../format.js';

const SEARCH = `query Search($query: String!, $category: SearchCategory, $orderBy: SearchOrderBy) {
  search(query: $query, category: $category, limit: 100, orderBy: $orderBy) {
    results {
      id name size seeders leechers addedAt providers magnet downloadUrl suggestedLibrary
      release { title year resolution source videoCodec hdr audioCodecs seasons episodes seasonPack releaseGroup }
      quality { refusal }
      inLibrary { name library }
    }
    refusedCount libraryChecked
    failures { provider code message }
  }
}`;

const ADD = `mutation SendToLibrary($input: AddTorrentInput!) {
  addTorrent(input: $input) { hash duplicate torrent { name savePath } }
}`;

const CATEGORIES = [
  ['ALL', 'Everything'],
  ['MOVIES', 'Movies'],
  ['TV', 'TV'],
  ['MUSIC', 'Music'],
  ['AUDIOBOOKS', 'Audiobooks'],
  ['BOOKS', 'Books'],
  ['GAMES', 'Games'],
  ['SOFTWARE', 'Software'],
  ['OTHER', 'Other'],
];

const ORDERS = [
  ['QUALITY', 'Best quality'],
  ['SEEDERS', 'Most seeders'],
  ['SIZE', 'Largest'],
  ['ADDED_AT', 'Newest'],
];

function Result({ result, libraries }) {
  // Chosen, or else the suggestion (the libraries may come after the results).
  const [chosen, setTarget] = useState(null);
  const target = chosen ?? result.suggestedLibrary ?? libraries[0]?.name ?? '';
  const [sent, send] = useAction(async () => {
    const input = { library: target || undefined };
    if (result.magnet) input.magnet = result.magnet;
    else input.url = result.downloadUrl;
    return (await graphql(ADD, { input })).addTorrent;
  });
  const facts = format.releaseFacts(result.release);
  return html`<li class="result">
    <div class="result-main">
      <span class="result-name wrap">${result.name}</span>
      <div class="facts-line">${facts.map((fact) => html`<span class="tag">${fact}</span>`)}
        ${result.quality.refusal && html`<span class="tag warning" title=${result.quality.refusal}>refused</span>`}
        ${result.inLibrary && html`<span class="tag ok" title=${result.inLibrary.name}>in ${result.inLibrary.library ?? 'Jellyfin'}</span>`}
      </div>
      <div class="torrent-meta">
        <span>${format.bytes(result.size)}</span>
        <span title="Seeders / leechers">${result.seeders} ↑ / ${result.leechers} ↓</span>
        <span>${format.age(result.addedAt)}</span>
        <span class="subtle">${result.providers.join(', ')}</span>
      </div>
    </div>
    <div class="result-actions">
      ${libraries.length > 0 && html`<select aria-label=${`Library for ${result.name}`} value=${target} onChange=${(event) => setTarget(event.target.value)}>
        ${libraries.map((library) => html`<option value=${library.name}>${library.name}</option>`)}
        <option value="">No library</option>
      </select>`}
      <button type="button" disabled=${sent.busy || (!result.magnet && !result.downloadUrl)} onClick=${() => send()}>
        ${sent.busy ? 'Sending…' : target ? `Download to ${target}` : 'Download'}
      </button>
      <${ErrorNote} error=${sent.error} />
      ${sent.result && html`<span class="outcome ok" role="status">${sent.result.duplicate ? 'Already there: ' : 'Sent: '}
        <a href=${`#/torrent/${sent.result.hash}`}>${sent.result.torrent.name}</a></span>`}
    </div>
  </li>`;
}

export function Search() {
  const [query, setQuery] = useState('');
  const [category, setCategory] = useState('ALL');
  const [order, setOrder] = useState('QUALITY');
  const [libraries] = useLoad(() => graphql('{ libraries { name } }'), []);
  const [search, run] = useAction(async (variables) => (await graphql(SEARCH, variables)).search);
  const submit = (event) => {
    event.preventDefault();
    if (query.trim()) run({ query: query.trim(), category, orderBy: { field: order, direction: 'DESC' } });
  };
  const found = search.result;
  return html`<section class="search">
    <form class="filters" role="search" onSubmit=${submit}>
      <label class="grow">Search every indexer
        <input type="search" name="query" value=${query} placeholder="Title, season, year…" onInput=${(event) => setQuery(event.target.value)} />
      </label>
      <label>Category
        <select value=${category} onChange=${(event) => setCategory(event.target.value)}>
          ${CATEGORIES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </label>
      <label>Order
        <select value=${order} onChange=${(event) => setOrder(event.target.value)}>
          ${ORDERS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </label>
      <button type="submit" disabled=${search.busy || !query.trim()}>Search</button>
    </form>
    ${search.busy && html`<${Busy} label="Asking the indexers…" />`}
    <${ErrorNote} error=${search.error} />
    ${found && found.failures.map((failure) => html`<${Notice} kind="warning"><strong>${failure.provider}</strong> failed (${failure.code}): ${failure.message}<//>`)}
    ${found && html`<p class="subtle" role="status">${found.results.length} result${found.results.length === 1 ? '' : 's'}${found.refusedCount ? `, ${found.refusedCount} refused by the quality settings` : ''}.</p>`}
    ${found && html`<ul class="results">${found.results.map((result) => html`<${Result} key=${result.id} result=${result} libraries=${libraries.result?.libraries ?? []} />`)}</ul>`}
  </section>`;
}
