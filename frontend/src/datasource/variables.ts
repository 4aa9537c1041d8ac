// Template variable support: the org's teams (text = name, value = id) and the dashboards of
// a team (its "Service Levels dashboards"), each a frame of `text`/`value` fields.
import { CustomVariableSupport, DataQueryRequest, DataQueryResponse, FieldType, createDataFrame } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { from, Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './DataSource';
import { listTeams } from './resources';
import type { MaturityVariableQuery } from './types';

/** One choice of a variable. */
export interface VariableValue {
  text: string;
  value: string;
}

/**
 * A stored variable query as this datasource reads it: Grafana hands a new variable an empty
 * query (sometimes a string), which means the teams.
 */
export function asVariableQuery(stored: unknown): MaturityVariableQuery {
  const q = (typeof stored === 'object' && stored !== null ? stored : {}) as Partial<MaturityVariableQuery>;
  return { ...q, refId: q.refId ?? 'variable', variable: q.variable === 'dashboards' ? 'dashboards' : 'teams' };
}

/** The values a variable query gives against this datasource. */
export async function variableValues(
  ds: DataSource,
  query: MaturityVariableQuery,
  replace: (v: string) => string
): Promise<VariableValue[]> {
  const teams = await listTeams(ds);
  if (query.variable === 'dashboards') {
    const wanted = query.team ? replace(query.team) : '';
    const ids = new Set(
      wanted
        .replace(/^\{|\}$/g, '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    );
    const uids = teams.filter((t) => ids.size === 0 || ids.has(t.id) || ids.has('$__all')).flatMap((t) => t.dashboards);
    return Array.from(new Set(uids)).map((uid) => ({ text: uid, value: uid }));
  }
  return teams.map((t) => ({ text: t.name, value: t.id }));
}

/** Grafana's hook for variables of this datasource. */
export class MaturityVariableSupport extends CustomVariableSupport<DataSource, MaturityVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly ds: DataSource) {
    super();
  }

  query(request: DataQueryRequest<MaturityVariableQuery>): Observable<DataQueryResponse> {
    const query = asVariableQuery(request.targets[0]);
    const replace = (v: string) => getTemplateSrv().replace(v, request.scopedVars, 'csv');
    return from(
      variableValues(this.ds, query, replace).then((values) => ({
        data: [
          createDataFrame({
            refId: query.refId,
            fields: [
              { name: 'text', type: FieldType.string, values: values.map((v) => v.text) },
              { name: 'value', type: FieldType.string, values: values.map((v) => v.value) },
            ],
          }),
        ],
      }))
    );
  }
}
