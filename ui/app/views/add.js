// Adding a torrent: a magnet, an info hash or a URL typed or pasted, or a
// `.torrent` chosen or dropped. `previewTorrent` shows what it holds (and
// whether qBittorrent has it already); a `.torrent`'s files can be chosen
// before it starts. It goes into a library (or a save path) and category.
import { useEffect, useState } from '../vendor/preact-hooks.mjs';
import { graphql } from '../api.js';
import { Busy, ErrorNote, Notice, html, useAction, useDebounced, useLoad } from '../components.js';
import * as format from '../format.js';

const PREVIEW = `mutation Preview($input: TorrentSourceInput!) {
  previewTorrent(input: $input) { hash name size files { index path size } existing { hash name } }
}`;

const ADD = `mutation Add($input: AddTorrentInput!) {
  addTorrent(input: $input) { hash duplicate torrent { hash name state savePath } }
}`;

/** What a typed text is: `{ magnet }`, `{ infoHash }`, `{ url }` or null. */
export function sourceOf(text) {
  const value = text.trim();
  if (!value) return null;
  if (/^magnet:\?/i.test(value)) return { magnet: value };
  if (/^[0-9a-f]{40}$/i.test(value) || /^[a-z2-7]{32}$/i.test(value)) return { infoHash: value };
  if (/^https?:\/\//i.test(value)) return { url: value };
  return { invalid: value };
}

function FileChooser({ files, chosen, setChosen }) {
  const all = chosen.size === files.length;
  const toggle = (index, on) => {
    const next = new Set(chosen);
    if (on) next.add(index);
    else next.delete(index);
    setChosen(next);
  };
  return html`<fieldset class="file-chooser">
    <legend>Files to download (${chosen.size} of ${files.length})</legend>
    <label class="inline"><input type="checkbox" checked=${all} onChange=${(event) => setChosen(event.target.checked ? new Set(files.map((file) => file.index)) : new Set())} /> All</label>
    <ul>${files.map((file) => html`<li><label class="inline">
      <input type="checkbox" checked=${chosen.has(file.index)} onChange=${(event) => toggle(file.index, event.target.checked)} />
      <span class="wrap">${file.path}</span> <span class="subtle">${format.bytes(file.size)}</span>
    </label></li>`)}</ul>
  </fieldset>`;
}

export function AddTorrent() {
  const [text, setText] = useState('');
  const [file, setFile] = useState(null);
  const [dragging, setDragging] = useState(false);
  const [library, setLibrary] = useState('');
  const [savePath, setSavePath] = useState('');
  const [category, setCategory] = useState('');
  const [start, setStart] = useState(true);
  const [chosen, setChosen] = useState(new Set());
  const [options] = useLoad(() => graphql('{ libraries { name collectionType paths } categories { name } }'), []);
  const [preview, runPreview, resetPreview] = useAction(async (input, files) => (await graphql(PREVIEW, { input }, { files })).previewTorrent);
  const [added, runAdd, resetAdd] = useAction(async (input, files) => (await graphql(ADD, { input }, { files })).addTorrent);
  const typed = useDebounced(text, 300);
  const source = file ? null : sourceOf(typed);

  useEffect(() => {
    resetAdd();
    if (file) runPreview({ file: null }, { 'input.file': file });
    else if (source && !source.invalid) runPreview(source, null);
    else resetPreview();
  }, [file, typed]);
  useEffect(() => {
    const files = preview.result?.files;
    setChosen(new Set((files ?? []).map((each) => each.index)));
  }, [preview.result]);

  const drop = (event) => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped) {
      setFile(dropped);
      setText('');
    } else {
      setText(event.dataTransfer.getData('text/plain'));
    }
  };
  const submit = async (event) => {
    event.preventDefault();
    const input = { paused: !start };
    if (library) input.library = library;
    else if (savePath.trim()) input.savePath = savePath.trim();
    if (category) input.category = category;
    const files = preview.result?.files;
    if (files && chosen.size < files.length) input.files = { indexes: [...chosen] };
    if (file) await runAdd({ ...input, file: null }, { 'input.file': file });
    else await runAdd({ ...input, ...sourceOf(text) }, null);
  };

  const known = options.result ?? { libraries: [], categories: [] };
  // What was typed must have been previewed (the choices belong to it).
  const settled = file != null || text === typed;
  const ready = settled && (file || (source && !source.invalid)) && !(preview.result?.files && chosen.size === 0);
  const result = added.result;
  return html`<section class="add">
    <h1>Add a torrent</h1>
    <form onSubmit=${submit}>
      <div class=${`drop ${dragging ? 'dragging' : ''}`} onDragOver=${(event) => {
        event.preventDefault();
        setDragging(true);
      }} onDragLeave=${() => setDragging(false)} onDrop=${drop}>
        <label>Magnet link, info hash or URL of a .torrent
          <input name="source" value=${text} disabled=${file != null} spellcheck=${false} autocomplete="off"
            placeholder="magnet:?xt=urn:btih:…" onInput=${(event) => setText(event.target.value)} />
        </label>
        <p class="subtle">or drop a .torrent file here, or${' '}
          <label class="file-button">choose one<input type="file" accept=".torrent,application/x-bittorrent"
            onChange=${(event) => {
              setFile(event.target.files[0] ?? null);
              setText('');
            }} /></label>
          ${file && html` — <strong>${file.name}</strong> <button type="button" class="plain" onClick=${() => setFile(null)}>remove</button>`}
        </p>
      </div>
      ${source?.invalid && html`<${Notice} kind="warning">That is not a magnet link, a 40-character info hash or an http(s) URL.<//>`}
      ${preview.busy && html`<${Busy} label="Reading the torrent…" />`}
      <${ErrorNote} error=${preview.error} />
      ${preview.result && html`<div class="preview">
        <p><strong class="wrap">${preview.result.name}</strong> ${preview.result.size != null && html`<span class="subtle">${format.bytes(preview.result.size)}</span>`}</p>
        ${preview.result.existing && html`<${Notice} kind="warning">qBittorrent already has this torrent:
          <a href=${`#/torrent/${preview.result.existing.hash}`}>${preview.result.existing.name}</a><//>`}
        ${preview.result.files == null && html`<p class="subtle">A magnet's files are known once its metadata arrives; it downloads them all (change priorities on its page).</p>`}
        ${preview.result.files && html`<${FileChooser} files=${preview.result.files} chosen=${chosen} setChosen=${setChosen} />`}
      </div>`}
      <div class="grid">
        <label>Library
          <select value=${library} onChange=${(event) => setLibrary(event.target.value)}>
            <option value="">None (save path below)</option>
            ${known.libraries.map((each) => html`<option value=${each.name}>${each.name}${each.collectionType ? ` (${each.collectionType})` : ''}</option>`)}
          </select>
        </label>
        <label>Save path
          <input value=${savePath} disabled=${library !== ''} placeholder="qBittorrent's default" onInput=${(event) => setSavePath(event.target.value)} />
        </label>
        <label>Category
          <select value=${category} onChange=${(event) => setCategory(event.target.value)}>
            <option value="">None</option>
            ${known.categories.map((each) => html`<option value=${each.name}>${each.name}</option>`)}
          </select>
        </label>
        <label class="inline"><input type="checkbox" checked=${start} onChange=${(event) => setStart(event.target.checked)} /> Start at once</label>
      </div>
      <button type="submit" disabled=${!ready || added.busy}>${added.busy ? 'Adding…' : 'Add'}</button>
      ${added.busy && html`<${Busy} label="Waiting for qBittorrent to list it…" />`}
      <${ErrorNote} error=${added.error} />
      ${result && html`<${Notice} kind=${result.duplicate ? 'warning' : 'ok'}>
        ${result.duplicate ? 'Already in qBittorrent: ' : 'Added: '}
        <a href=${`#/torrent/${result.hash}`}>${result.torrent.name}</a>
        <span class="subtle"> in ${result.torrent.savePath}</span>
      <//>`}
    </form>
  </section>`;
}
