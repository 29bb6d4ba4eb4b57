// How the UI talks to torrentql: GraphQL over HTTP (POST /graphql) for
// queries and mutations, graphql-ws on the same path for subscriptions,
// both with the session's token in the Authorization header or the
// connection's payload. Never in a URL.
import { createClient } from './vendor/graphql-ws/client.js';

const TOKEN_KEY = 'torrentql.token';

/** An error the API answered (with its `extensions.code`), or none at all. */
export class ApiError extends Error {
  constructor(message, code = 'INTERNAL', path = null) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

const listeners = new Set();

/** The token, kept for this tab until it is closed or signed out. */
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  /** Keeps `token` (after it was checked) and tells the listeners. */
  start(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    closeSubscriptions();
    for (const listener of listeners) listener({ signedIn: true });
  },
  /** Forgets the token; `reason` is shown on the sign-in page. */
  end(reason = null) {
    sessionStorage.removeItem(TOKEN_KEY);
    closeSubscriptions();
    for (const listener of listeners) listener({ signedIn: false, reason });
  },
  /** Calls `listener({ signedIn, reason })` on every change; returns the unsubscribe. */
  listen(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

const EXPIRED = 'Your session has expired. Sign in again.';

function apiError(error) {
  return new ApiError(error.message, error.extensions?.code ?? 'INTERNAL', error.path ?? null);
}

/**
 * Runs one operation and answers `{ data, errors }`: `errors` are the
 * answer's errors as ApiErrors (a batch mutation fails per torrent). Throws
 * an ApiError when there is no data at all. `files` maps variable paths
 * (`input.file`) to File objects, sent as a GraphQL multipart request;
 * `token` is the session's unless given (to check one before keeping it).
 */
export async function request(query, variables = {}, { files = null, token = session.token } = {}) {
  // Plain JSON: every answer is 200 with its errors in the body, read
  // here, rather than a 4xx the browser would log as a failed load.
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let body;
  if (files) {
    body = new FormData();
    const map = {};
    const blanked = structuredClone(variables);
    Object.keys(files).forEach((path, index) => {
      map[index] = [`variables.${path}`];
      setPath(blanked, path, null);
    });
    body.append('operations', JSON.stringify({ query, variables: blanked }));
    body.append('map', JSON.stringify(map));
    Object.values(files).forEach((file, index) => body.append(String(index), file, file.name));
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ query, variables });
  }
  let response;
  try {
    response = await fetch('/graphql', { method: 'POST', headers, body });
  } catch (error) {
    throw new ApiError(`torrentql cannot be reached (${error.message}).`, 'NETWORK');
  }
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new ApiError(`torrentql answered ${response.status} without a GraphQL result.`, `HTTP_${response.status}`);
  }
  const errors = (answer.errors ?? []).map(apiError);
  const unauthenticated = errors.find((error) => error.code === 'UNAUTHENTICATED');
  if (unauthenticated && token && token === session.token) {
    session.end(EXPIRED);
    throw unauthenticated;
  }
  if (answer.data == null) throw errors[0] ?? new ApiError('torrentql answered without data.');
  return { data: answer.data, errors };
}

/** Runs one operation and answers its data; any error is thrown. */
export async function graphql(query, variables = {}, options = {}) {
  const { data, errors } = await request(query, variables, options);
  if (errors.length > 0) throw errors[0];
  return data;
}

function setPath(object, path, value) {
  const keys = path.split('.');
  let at = object;
  for (const key of keys.slice(0, -1)) at = at[key];
  at[keys.at(-1)] = value;
}

let client = null;
const RETRY_MAX_MS = 5000;

function subscriptions() {
  if (client) return client;
  const url = new URL('/graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  client = createClient({
    url: url.href,
    lazy: true,
    // Until the tab closes: a torrentql or network restart is survived,
    // trying again every few seconds (graphql-ws's own wait doubles on
    // and on).
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, RETRY_MAX_MS))),
    connectionParams: () => ({ authorization: `Bearer ${session.token}` }),
  });
  return client;
}

function closeSubscriptions() {
  if (client) client.dispose();
  client = null;
}

/**
 * Subscribes to `query`; `onData(data)` gets each event, `onError(ApiError)`
 * a failure. Returns the unsubscribe. An expired token ends the session.
 */
export function subscribe(query, variables, onData, onError = () => {}) {
  return subscriptions().subscribe(
    { query, variables },
    {
      next: (answer) => {
        const errors = (answer.errors ?? []).map(apiError);
        if (errors.some((error) => error.code === 'UNAUTHENTICATED')) {
          session.end(EXPIRED);
          return;
        }
        if (errors.length > 0) onError(errors[0]);
        if (answer.data) onData(answer.data);
      },
      error: (error) => {
        const message = Array.isArray(error)
          ? error.map((each) => each.message).join('; ')
          : error?.reason || error?.message || 'the live connection closed';
        onError(new ApiError(`Live updates stopped: ${message}`, 'SUBSCRIPTION'));
      },
      complete: () => {},
    },
  );
}
