// Generates src/datasource/query.gen.ts from src/datasource/query.schema.json, the query
// JSON schema the backend writes (`maturity query-schema`). `--check` fails on any drift
// instead of writing, so the TypeScript types can never disagree with what the backend decodes.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateQueryTypes } from './query-types.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = join(root, 'src/datasource/query.schema.json');
const outPath = join(root, 'src/datasource/query.gen.ts');

const generated = await generateQueryTypes(JSON.parse(readFileSync(schemaPath, 'utf8')));
if (process.argv.includes('--check')) {
  const current = readFileSync(outPath, 'utf8');
  if (current !== generated) {
    console.error(`${outPath} is out of date with ${schemaPath}: run \`npm run gen:types\``);
    process.exit(1);
  }
  console.log('query.gen.ts matches query.schema.json');
} else {
  writeFileSync(outPath, generated);
  console.log(`wrote ${outPath}`);
}
