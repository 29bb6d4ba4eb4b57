// The GraphQL over HTTP audit of `graphql-http` against a running
// torrentql, every request carrying an admin token.
//
//   node audit.mjs <graphql url> <admin token>
//
// Prints one JSON object: { ok: [...], warnings: [...], errors: [...],
// notices: [...] }, each entry { id, name, reason? }.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const report = { ok: [], warnings: [], errors: [], notices: [] };
for (const result of results) {
  const entry = { id: result.id, name: result.name };
  if (result.status === 'ok') {
    report.ok.push(entry);
  } else {
    // graphql-http's levels: a failed MUST is an error, a SHOULD a
    // warning, a MAY a notice.
    entry.reason = result.reason;
    const level = { error: 'errors', warn: 'warnings', notice: 'notices' }[result.status];
    report[level].push(entry);
  }
}
process.stdout.write(JSON.stringify(report) + '\n');
