// The query editor: the query type first (each described in words), then that type's fields as
// the backend's schema lists them, then what the answer will hold and whether alerts can use it.
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { Badge, InlineField, InlineFieldRow, Select, Stack, Text } from '@grafana/ui';
import React from 'react';

import { type DataSource, missingPart } from '../DataSource';
import { QUERY_TYPES, defaultsFor, queryTypeSchema } from '../schema';
import type { MaturityOptions, MaturityQuery, QueryType } from '../types';
import { FieldControl } from './FieldControl';

type Props = QueryEditorProps<DataSource, MaturityQuery, MaturityOptions> & {
  /** Only these query types (an annotation layer offers the annotation-shaped ones). */
  queryTypes?: QueryType[];
};

/**
 * The query after a switch to another type: that type's defaults, with the team kept even
 * through a type that does not use it (the backend ignores it there), so switching back and
 * forth never loses the user's choice.
 */
export function switchType(query: MaturityQuery, queryType: QueryType): MaturityQuery {
  const next: Record<string, unknown> = {
    refId: query.refId,
    ...defaultsFor(queryType),
  };
  for (const key of ['datasource', 'hide', 'key'] as const) {
    if (query[key] !== undefined) {
      next[key] = query[key];
    }
  }
  const team = (query as { team?: unknown }).team;
  if (team !== undefined) {
    next.team = team;
  }
  return next as unknown as MaturityQuery;
}

export function QueryEditor(props: Props) {
  const { datasource, query, onChange, onRunQuery, queryTypes } = props;
  const allowed = QUERY_TYPES.filter((t) => !queryTypes || queryTypes.includes(t.queryType));
  const schema = queryTypeSchema(query.queryType);
  const typeOptions: Array<SelectableValue<QueryType>> = allowed.map((t) => ({
    label: t.title,
    value: t.queryType,
    description: t.description,
  }));
  const change = (next: MaturityQuery, run: boolean) => {
    onChange(next);
    if (run && missingPart(next) === undefined) {
      onRunQuery();
    }
  };
  const setField = (key: string) => (value: unknown, run: boolean) => {
    const next: Record<string, unknown> = { ...query };
    if (value === undefined) {
      delete next[key];
    } else {
      next[key] = value;
    }
    change(next as unknown as MaturityQuery, run);
  };
  const missing = missingPart(query);
  const id = (key: string) => `maturity-${query.refId}-${key}`;

  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={14} htmlFor={id('queryType')} tooltip="What to ask the datasource">
          <Select<QueryType>
            inputId={id('queryType')}
            width={40}
            options={typeOptions}
            value={schema ? query.queryType : null}
            placeholder="Choose what to ask"
            onChange={(item: SelectableValue<QueryType>) => item.value && change(switchType(query, item.value), true)}
          />
        </InlineField>
        {schema?.alertable && (
          <Badge color="green" icon="bell" text="Alertable" tooltip="Grafana Alerting can use this query" />
        )}
      </InlineFieldRow>
      {schema && schema.fields.length > 0 && (
        <InlineFieldRow>
          {schema.fields.map((field) => (
            <InlineField
              key={field.key}
              label={field.title}
              labelWidth={14}
              tooltip={field.description}
              htmlFor={id(field.key)}
              invalid={missing !== undefined && field.key === 'targetId'}
              error={missing}
            >
              <FieldControl
                datasource={datasource}
                field={field}
                query={query as unknown as Record<string, unknown>}
                onChange={setField(field.key)}
                inputId={id(field.key)}
              />
            </InlineField>
          ))}
        </InlineFieldRow>
      )}
      {schema && (
        <Text color="secondary" variant="bodySmall">
          {schema.description}
          {schema.frame ? ` Answers ${schema.frame}` : ''}
          {missing ? ` Needs ${missing} before it runs.` : ''}
        </Text>
      )}
    </Stack>
  );
}
