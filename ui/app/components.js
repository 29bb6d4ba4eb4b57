// What every view shares: the `html` template tag (htm bound to Preact:
// text is always text, never HTML), messages, the busy mark, and a hook
// that runs an API call and keeps its result, error and progress.
import { h } from './vendor/preact.mjs';
import { useCallback, useEffect, useRef, useState } from './vendor/preact-hooks.mjs';
import htm from './vendor/htm.mjs';

export const html = htm.bind(h);

/** An API error (or any error) where it happened, readable. */
export function ErrorNote({ error, onDismiss }) {
  if (!error) return null;
  const code = error.code && error.code !== 'INTERNAL' ? html`<span class="code">${error.code}</span>` : null;
  return html`<div class="note error" role="alert">
    ${code}<span>${error.message}</span>
    ${onDismiss && html`<button type="button" class="plain" aria-label="Dismiss" onClick=${onDismiss}>×</button>`}
  </div>`;
}

export function Notice({ children, kind = 'info' }) {
  return html`<div class=${`note ${kind}`} role="status">${children}</div>`;
}

export function Busy({ label }) {
  return html`<span class="busy" role="status"><span class="spinner" aria-hidden="true"></span>${label}</span>`;
}

/**
 * `run(...args)` calls `action(...args)` and keeps `{ busy, error, result }`;
 * a call started after another wins. Answers `[state, run, reset]`.
 */
export function useAction(action) {
  const [state, setState] = useState({ busy: false, error: null, result: null });
  const latest = useRef(0);
  const run = useCallback(async (...args) => {
    const call = ++latest.current;
    setState((previous) => ({ ...previous, busy: true, error: null }));
    try {
      const result = await action(...args);
      if (call === latest.current) setState({ busy: false, error: null, result });
      return result;
    } catch (error) {
      if (call === latest.current) setState({ busy: false, error, result: null });
      return undefined;
    }
  }, [action]);
  const reset = useCallback(() => {
    latest.current += 1;
    setState({ busy: false, error: null, result: null });
  }, []);
  return [state, run, reset];
}

/** Runs `load` now and whenever `deps` change; answers `[state, reload]`. */
export function useLoad(load, deps) {
  const [state, run] = useAction(load);
  useEffect(() => {
    run();
  }, deps);
  return [state, run];
}

/** `value`, once it stopped changing for `delay` ms. */
export function useDebounced(value, delay) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return settled;
}

/** The part of the address after `#`, as `[view, argument]`. */
export function useRoute() {
  const read = () => {
    const [view = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
    let argument = rest.join('/');
    try {
      argument = decodeURIComponent(argument);
    } catch {
      // Not percent-encoded text: taken as it is.
    }
    return [view || 'torrents', argument];
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/**
 * Asks before something that cannot be undone: focuses Cancel when shown,
 * and Escape cancels.
 */
export function Confirm({ question, children, onCancel }) {
  const cancel = useRef(null);
  useEffect(() => cancel.current?.focus(), []);
  return html`<div class="confirm" role="alertdialog" aria-label=${question}
      onKeyDown=${(event) => event.key === 'Escape' && onCancel()}>
    <span>${question}</span>
    ${children}
    <button type="button" class="plain" ref=${cancel} onClick=${onCancel}>Cancel</button>
  </div>`;
}

/** Answers of a batch mutation: how many took, and the first failures. */
export function batchOutcome(label, answered, errors) {
  const done = (answered ?? []).filter(Boolean).length;
  const failed = errors.length;
  if (failed === 0) return { kind: 'ok', message: `${label}: ${done} torrent${done === 1 ? '' : 's'}.` };
  return {
    kind: 'error',
    message: `${label}: ${done} done, ${failed} failed (${errors[0].message}).`,
  };
}
