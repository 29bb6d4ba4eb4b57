// Live progress with each subscription client people use: graphql-sse
// (server-sent events), graphql-ws (graphql-transport-ws) and the legacy
// subscriptions-transport-ws (graphql-ws). Each subscribes to one
// torrent, waits for the snapshot, pauses the torrent over HTTP, waits
// for the pause as a delta, then closes.
//
//   node streams.mjs <http graphql url> <ws graphql url> <admin token> <torrent hash>
//
// Prints one JSON object: { sse: {...}, graphqlWs: {...}, legacy: {...} },
// each { snapshot, delta, closeCode? }.
import WebSocket from 'ws';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';

const [httpUrl, wsUrl, token, hash] = process.argv.slice(2);
const authorization = `Bearer ${token}`;
const PROGRESS = `subscription($hashes: [String!]) {
  torrentProgress(hashes: $hashes) { snapshot torrents { id hash state } }
}`;
const PAUSED = 'PAUSED_DOWNLOADING';

const run = async (query, variables = {}) => {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json();
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data;
};
const resume = () => run('mutation($h: String!) { resumeTorrent(hash: $h) { hash } }', { h: hash });
const pause = () => run('mutation($h: String!) { pauseTorrent(hash: $h) { hash } }', { h: hash });

const timeout = (what) => new Promise((_, reject) =>
  setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20000));

// Feeds events to `watch` until it has the snapshot and the pause.
function watcher() {
  const seen = { snapshot: null, delta: null };
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const onEvent = (result) => {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    const progress = result.data.torrentProgress;
    if (!seen.snapshot) {
      seen.snapshot = progress;
      pause();
    } else if (progress.torrents.some((torrent) => torrent.state === PAUSED)) {
      seen.delta = progress;
      done();
    }
  };
  return { seen, onEvent, finished };
}

async function withSse() {
  await resume();
  const client = createSseClient({ url: httpUrl, headers: { authorization }, retryAttempts: 0 });
  const { seen, onEvent, finished } = watcher();
  let failed;
  const unsubscribe = client.subscribe(
    { query: PROGRESS, variables: { hashes: [hash] } },
    { next: onEvent, error: (error) => { failed = error; }, complete: () => {} },
  );
  await Promise.race([finished, timeout('the SSE pause')]);
  unsubscribe();
  client.dispose();
  if (failed) throw failed;
  return seen;
}

async function withGraphqlWs() {
  await resume();
  let closeCode;
  const client = createWsClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: authorization },
    retryAttempts: 0,
    lazy: false,
    on: { closed: (event) => { closeCode = event.code; } },
  });
  const { seen, onEvent, finished } = watcher();
  const unsubscribe = client.subscribe(
    { query: PROGRESS, variables: { hashes: [hash] } },
    { next: onEvent, error: (error) => { throw error; }, complete: () => {} },
  );
  await Promise.race([finished, timeout('the graphql-ws pause')]);
  unsubscribe();
  await client.dispose();
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { ...seen, closeCode };
}

async function withLegacy() {
  await resume();
  let closeCode;
  const client = new SubscriptionClient(wsUrl, {
    reconnect: false,
    connectionParams: { Authorization: authorization },
  }, WebSocket);
  const { seen, onEvent, finished } = watcher();
  const subscription = client.request({ query: PROGRESS, variables: { hashes: [hash] } }).subscribe({
    next: onEvent,
    error: (error) => { throw error; },
  });
  await Promise.race([finished, timeout('the legacy pause')]);
  subscription.unsubscribe();
  const socket = client.client;
  const closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
  client.close();
  closeCode = await Promise.race([closed, timeout('the legacy close')]);
  return { ...seen, closeCode };
}

const report = { sse: await withSse(), graphqlWs: await withGraphqlWs(), legacy: await withLegacy() };
process.stdout.write(JSON.stringify(report) + '\n');
