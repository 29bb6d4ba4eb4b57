// What a frontend does first, with the client libraries people use and
// their default options: urql, Apollo Client, graphql-request. Each lists
// torrents, adds one (a magnet, paused) and resumes then pauses it; the
// script prints what each saw, and what went over the wire.
//
//   node frontend.mjs <graphql url> <admin token> '<json: {urql, apollo, graphqlRequest}: magnet per client>'
//
// Prints one JSON object: { urql, urqlGraphcache, apollo, apolloPersistedQueries,
// graphqlRequest },
// each what that client saw.
import { Client, cacheExchange, fetchExchange, gql as urqlGql } from '@urql/core';
import { cacheExchange as graphcacheExchange } from '@urql/exchange-graphcache';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLClient } from 'graphql-request';
import { createHash } from 'node:crypto';

const [url, token, magnetsJson] = process.argv.slice(2);
const magnets = JSON.parse(magnetsJson);
const authorization = `Bearer ${token}`;

// Records each request: its method, and the operation it carried.
const sent = [];
const recordingFetch = (input, init = {}) => {
  const method = init.method ?? 'GET';
  const requestUrl = new URL(input instanceof Request ? input.url : String(input));
  const body = init.body ? JSON.parse(init.body) : null;
  const query = body?.query ?? requestUrl.searchParams.get('query') ?? '';
  const entry = { method, operation: query.trim().split(/[\s({]/)[0] || 'query' };
  if (!query) entry.operation = 'hash only';
  sent.push(entry);
  return fetch(input, init);
};
const wire = () => sent.splice(0);

const LIST = `query List($hashes: [String!]) { torrents(hashes: $hashes) { nodes { id hash name state } } }`;
const ADD = `mutation Add($magnet: String!) {
  addTorrent(input: { magnet: $magnet, paused: true }) { hash torrent { id hash name state } }
}`;
const RESUME = `mutation Resume($hash: String!) { resumeTorrent(hash: $hash) { id hash state } }`;
const PAUSE = `mutation Pause($hash: String!) { pauseTorrent(hash: $hash) { id hash state } }`;

// The flow every client goes through: add, list, resume, pause, list
// again. `run(document, variables)` sends one operation, returns its data.
async function addListResumePause(run, magnet) {
  const added = await run(ADD, { magnet });
  const hash = added.addTorrent.hash;
  const listed = await run(LIST, { hashes: [hash] });
  await run(RESUME, { hash });
  const paused = await run(PAUSE, { hash });
  const again = await run(LIST, { hashes: [hash] });
  return {
    hash,
    listed: listed.torrents.nodes,
    paused: paused.pauseTorrent,
    listedAfterPause: again.torrents.nodes,
    wire: wire(),
  };
}

// urql's document cache drops every result holding a `Torrent` after a
// mutation returning one: the second list comes back fresh.
async function withUrql() {
  const client = new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    fetch: recordingFetch,
    fetchOptions: () => ({ headers: { authorization } }),
  });
  const run = async (document, variables) => {
    const operation = document.trim().startsWith('mutation')
      ? client.mutation(urqlGql(document), variables)
      : client.query(urqlGql(document), variables);
    const result = await operation.toPromise();
    if (result.error) throw new Error(`urql: ${result.error.message}`);
    return result.data;
  };
  return addListResumePause(run, magnets.urql);
}

// urql's normalised cache, Graphcache, with no `keys`: it keys torrents by
// `id`, so the pause lands in the cached list with no refetch.
async function withUrqlGraphcache(hash) {
  const client = new Client({
    url,
    exchanges: [graphcacheExchange({}), fetchExchange],
    fetch: recordingFetch,
    fetchOptions: () => ({ headers: { authorization } }),
  });
  const unwrap = (result) => {
    if (result.error) throw new Error(`urql graphcache: ${result.error.message}`);
    return result.data;
  };
  const listed = unwrap(await client.query(urqlGql(LIST), { hashes: [hash] }).toPromise());
  unwrap(await client.mutation(urqlGql(RESUME), { hash }).toPromise());
  const cachedAfterResume = client.readQuery(urqlGql(LIST), { hashes: [hash] })?.data;
  const beforePause = wire();
  unwrap(await client.mutation(urqlGql(PAUSE), { hash }).toPromise());
  const cachedAfterPause = unwrap(await client
    .query(urqlGql(LIST), { hashes: [hash] }, { requestPolicy: 'cache-only' })
    .toPromise());
  return {
    listed: listed.torrents.nodes,
    cachedAfterResume: cachedAfterResume.torrents.nodes,
    cachedAfterPause: cachedAfterPause.torrents.nodes,
    wire: beforePause,
    wireForPause: wire(),
  };
}

async function withApollo() {
  const client = new ApolloClient({
    link: new HttpLink({ uri: url, headers: { authorization }, fetch: recordingFetch }),
    cache: new InMemoryCache(),
  });
  const added = await client.mutate({ mutation: gql(ADD), variables: { magnet: magnets.apollo } });
  const hash = added.data.addTorrent.hash;
  const listed = await client.query({ query: gql(LIST), variables: { hashes: [hash] } });
  await client.mutate({ mutation: gql(RESUME), variables: { hash } });
  const cachedAfterResume = client.readQuery({ query: gql(LIST), variables: { hashes: [hash] } });
  const beforePause = wire();
  const paused = await client.mutate({ mutation: gql(PAUSE), variables: { hash } });
  // No refetch, no typePolicies: the cached list shows the paused state
  // because the mutation's Torrent has the same id.
  const cached = client.readQuery({ query: gql(LIST), variables: { hashes: [hash] } });
  const fromCache = await client.query({
    query: gql(LIST),
    variables: { hashes: [hash] },
    fetchPolicy: 'cache-only',
  });
  return {
    hash,
    listed: listed.data.torrents.nodes,
    paused: paused.data.pauseTorrent,
    cachedAfterResume: cachedAfterResume.torrents.nodes,
    cachedAfterPause: cached.torrents.nodes,
    queriedFromCacheAfterPause: fromCache.data.torrents.nodes,
    wire: beforePause,
    wireForPause: wire(),
  };
}

// Apollo's automatic persisted queries, hashes over GET: the first
// client registers the query, a second one (a new page) sends the hash
// alone.
async function withApolloPersistedQueries(hash) {
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const client = () => new ApolloClient({
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
      new HttpLink({ uri: url, headers: { authorization }, fetch: recordingFetch })),
    cache: new InMemoryCache(),
  });
  const first = await client().query({ query: gql(LIST), variables: { hashes: [hash] } });
  const registering = wire();
  const second = await client().query({ query: gql(LIST), variables: { hashes: [hash] } });
  return {
    first: first.data.torrents.nodes,
    second: second.data.torrents.nodes,
    registering,
    registered: wire(),
  };
}

async function withGraphqlRequest() {
  const client = new GraphQLClient(url, { headers: { authorization }, fetch: recordingFetch });
  return addListResumePause((document, variables) => client.request(document, variables),
    magnets.graphqlRequest);
}

const apollo = await withApollo();
const urql = await withUrql();
const report = {
  urql,
  urqlGraphcache: await withUrqlGraphcache(urql.hash),
  apollo,
  apolloPersistedQueries: await withApolloPersistedQueries(apollo.hash),
  graphqlRequest: await withGraphqlRequest(),
};
process.stdout.write(JSON.stringify(report) + '\n');
