// graphql-schema-linter on the committed schema.graphql, with the rules
// in .graphql-schema-linterrc: every description and naming rule. Left
// out: the ordering rules (fields read in the order that explains them),
// and the Relay connection rules (torrentql has no connections; a
// missing PageInfo type is all they would report).
//
//   node lint-schema.mjs
//
// Prints one JSON object: { status, errors: [...] }.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const result = spawnSync(process.execPath, [
  path.join(here, 'node_modules/graphql-schema-linter/lib/cli.js'),
  '--config-directory', here,
  '--format', 'json',
  path.join(here, '../../schema.graphql'),
], { encoding: 'utf8' });
const report = JSON.parse(result.stdout || '{"errors":[]}');
process.stdout.write(JSON.stringify({
  status: result.status,
  errors: report.errors.map((error) => `${error.location.line}: ${error.message} (${error.rule})`),
  stderr: result.stderr,
}) + '\n');
