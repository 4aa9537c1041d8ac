// The one translation from the backend's query JSON schema to TypeScript, shared by the
// generator script and the jest test that checks the committed file against it.
import { compile } from 'json-schema-to-typescript';

const BANNER = `/* eslint-disable */
/**
 * Generated from query.schema.json (written by the backend: \`maturity query-schema\`).
 * Do not edit: run \`npm run gen:types\` in frontend/.
 */`;

/** Returns the TypeScript source of the query types for one schema. */
export async function generateQueryTypes(schema) {
  // The root's title would collide with the \`maturity\` query type's own definition name,
  // and a field's title is a label for the editor, not a type name: json-schema-to-typescript
  // would turn every titled field into an alias of its own (Status, Status1, ...).
  const root = { ...withoutFieldTitles(schema), title: 'AnyMaturityQuery' };
  return compile(root, 'AnyMaturityQuery', {
    bannerComment: BANNER,
    additionalProperties: false,
    unreachableDefinitions: true,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
  });
}

function withoutFieldTitles(schema) {
  const definitions = Object.fromEntries(
    Object.entries(schema.definitions ?? {}).map(([name, def]) => [
      name,
      def.properties
        ? {
            ...def,
            properties: Object.fromEntries(
              Object.entries(def.properties).map(([key, { title, ...field }]) => [key, field])
            ),
          }
        : def,
    ])
  );
  return { ...schema, definitions };
}
