// GraphQL Code Generator (typescript-operations) on the committed
// schema.graphql and codegen/operations.graphql, then `tsc --noEmit` on
// codegen/usage.ts, which uses the generated types as a frontend would.
//
//   node codegen.mjs
//
// Prints one JSON object: { generated: <file>, codegen: {status, output},
// typecheck: {status, output} }.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const codegenDir = path.join(here, 'codegen');
const run = (script, args) => {
  const result = spawnSync(process.execPath, [path.join(here, 'node_modules', script), ...args], {
    cwd: codegenDir,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
};

const codegen = run('@graphql-codegen/cli/cjs/bin.js', ['--config', 'codegen.yml', '--silent']);
const typecheck = codegen.status === 0
  ? run('typescript/bin/tsc', ['-p', 'tsconfig.json'])
  : { status: null, output: 'not run: codegen failed' };
process.stdout.write(JSON.stringify({
  generated: path.join(codegenDir, 'generated', 'operations.ts'),
  codegen,
  typecheck,
}) + '\n');
