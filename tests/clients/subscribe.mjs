// A websocket subscriber for the tests, using the real client libraries:
// `graphql-ws` (protocol graphql-transport-ws) or the legacy
// `subscriptions-transport-ws` (protocol graphql-ws).
//
//   node subscribe.mjs '<json options>'
//   options: { url, query, variables?, protocol: "graphql-transport-ws" | "graphql-ws",
//              connectionParams, subscribers?: 1, quiet?: false }
//
// Prints one JSON line per happening, flushed at once:
//   {"subscriber":0,"kind":"next","payload":{...}}     an event (not with quiet)
//   {"subscriber":0,"kind":"error","payload":[...]}    a GraphQL error
//   {"subscriber":0,"kind":"complete"}
//   {"subscriber":0,"kind":"closed","code":4403,"reason":"Forbidden"}
//   {"kind":"all-subscribed"}                           every subscriber got its first event
//   {"kind":"counts","events":[...]}                    on stdin's end: events per subscriber
// and exits when stdin closes.
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';

const options = JSON.parse(process.argv[2]);
const subscribers = options.subscribers ?? 1;
const counts = new Array(subscribers).fill(0);
let firstEvents = 0;
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const closers = [];

const onNext = (subscriber, payload) => {
  counts[subscriber] += 1;
  if (counts[subscriber] === 1 && ++firstEvents === subscribers) print({ kind: 'all-subscribed' });
  if (!options.quiet) print({ subscriber, kind: 'next', payload });
};

for (let subscriber = 0; subscriber < subscribers; subscriber++) {
  const request = { query: options.query, variables: options.variables ?? {} };
  if (options.protocol === 'graphql-ws') {
    const client = new SubscriptionClient(options.url, {
      reconnect: false,
      connectionParams: options.connectionParams,
      connectionCallback: (error) => {
        if (error) print({ subscriber, kind: 'connection-error', payload: error });
      },
    }, WebSocket);
    client.onDisconnected(() => print({ subscriber, kind: 'closed' }));
    client.request(request).subscribe({
      next: (payload) => payload.errors
        ? print({ subscriber, kind: 'error', payload: payload.errors })
        : onNext(subscriber, payload),
      error: (error) => print({ subscriber, kind: 'error', payload: error }),
      complete: () => print({ subscriber, kind: 'complete' }),
    });
    closers.push(() => client.close());
  } else {
    const client = createClient({
      url: options.url,
      webSocketImpl: WebSocket,
      connectionParams: options.connectionParams,
      retryAttempts: 0,
      lazy: false,
      on: {
        closed: (event) => print({ subscriber, kind: 'closed', code: event.code, reason: String(event.reason ?? '') }),
      },
    });
    client.subscribe(request, {
      next: (payload) => payload.errors
        ? print({ subscriber, kind: 'error', payload: payload.errors })
        : onNext(subscriber, payload),
      error: (error) => print({ subscriber, kind: 'error', payload: Array.isArray(error) ? error : String(error?.reason ?? error) }),
      complete: () => print({ subscriber, kind: 'complete' }),
    });
    closers.push(() => client.dispose());
  }
}

process.stdin.resume();
process.stdin.on('end', async () => {
  print({ kind: 'counts', events: counts });
  for (const close of closers) await close();
  process.exit(0);
});
