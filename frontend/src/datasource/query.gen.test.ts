// The TypeScript query types cannot drift from the schema the backend writes: the committed
// query.gen.ts must be exactly what the generator makes of query.schema.json. (The generator
// runs in its own node process: prettier's dynamic imports do not run inside jest.)
import { execFileSync } from 'child_process';
import path from 'path';

it('query.gen.ts is generated from the current query.schema.json (npm run gen:types)', () => {
  const script = path.join(__dirname, '../../scripts/gen-types.mjs');
  const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  expect(out).toContain('matches');
});
