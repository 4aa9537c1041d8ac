// Reads the backend's query schema (query.schema.json) for what the editors show: each query
// type's description, its fields with titles, enums, defaults and bounds, and whether it is
// alertable. The editors render from this, so a field the backend adds appears without a new
// control being written.
import schemaJson from './query.schema.json';
import type { QueryType } from './types';

/** One field of a query type, as the schema describes it. */
export interface FieldSchema {
  key: string;
  title: string;
  description?: string;
  type?: string;
  enum?: string[];
  itemEnum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  required: boolean;
}

/** One query type, as the schema describes it. */
export interface QueryTypeSchema {
  queryType: QueryType;
  title: string;
  description: string;
  frame?: string;
  alertable: boolean;
  fields: FieldSchema[];
}

interface RawProperty {
  type?: string;
  const?: string;
  title?: string;
  description?: string;
  enum?: string[];
  items?: { enum?: string[] };
  default?: unknown;
  minimum?: number;
  maximum?: number;
  $ref?: string;
  deprecated?: boolean;
}

interface RawDefinition {
  title?: string;
  description?: string;
  properties?: Record<string, RawProperty>;
  required?: string[];
  'x-alertable'?: boolean;
  'x-frame'?: string;
}

const definitions = (schemaJson as unknown as { definitions: Record<string, RawDefinition> }).definitions;
const refs = (schemaJson as unknown as { oneOf: Array<{ $ref: string }> }).oneOf;

function resolve(p: RawProperty): RawProperty {
  if (!p.$ref) {
    return p;
  }
  const name = p.$ref.replace('#/definitions/', '');
  return { ...definitions[name], ...p, $ref: undefined } as RawProperty;
}

function humanize(key: string): string {
  const words = key.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Every query type, in the schema's order. */
export const QUERY_TYPES: QueryTypeSchema[] = refs.map(({ $ref }) => {
  const def = definitions[$ref.replace('#/definitions/', '')];
  const props = def.properties ?? {};
  const queryType = props.queryType?.const as QueryType;
  const required = new Set(def.required ?? []);
  return {
    queryType,
    title: humanize(queryType),
    description: def.description ?? '',
    frame: def['x-frame'],
    alertable: Boolean(def['x-alertable']),
    // The team comes first, as in every Grafana editor that scopes by an entity; a deprecated
    // spelling the backend still reads is not offered.
    fields: Object.entries(props)
      .filter(([key, raw]) => key !== 'queryType' && !raw.deprecated)
      .sort(([a], [b]) => Number(b === 'team') - Number(a === 'team'))
      .map(([key, raw]) => {
        const p = resolve(raw);
        return {
          key,
          title: raw.title ?? humanize(key),
          description: raw.description ?? p.description,
          type: p.type,
          enum: p.enum,
          itemEnum: p.items?.enum,
          default: p.default,
          minimum: p.minimum,
          maximum: p.maximum,
          required: required.has(key),
        };
      }),
  };
});

/** The schema of one query type (undefined for a type this frontend does not know). */
export function queryTypeSchema(queryType: string | undefined): QueryTypeSchema | undefined {
  return QUERY_TYPES.find((t) => t.queryType === queryType);
}

/** A query of this type with every field the schema gives a default for. */
export function defaultsFor(queryType: QueryType): Record<string, unknown> {
  const schema = queryTypeSchema(queryType);
  const out: Record<string, unknown> = { queryType };
  for (const f of schema?.fields ?? []) {
    if (f.default !== undefined) {
      out[f.key] = f.default;
    }
  }
  return out;
}
