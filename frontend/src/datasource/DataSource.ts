// The datasource Grafana loads: queries go to the backend through DataSourceWithBackend (which
// adds the dashboard and panel headers passive views rely on, SPEC §4.4), with template
// variables interpolated, hidden and incomplete queries held back, and annotation and
// variable support.
import { AnnotationQuery, CoreApp, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';

import { AnnotationQueryEditor } from './components/AnnotationQueryEditor';
import { interpolateQuery } from './interpolate';
import { defaultsFor, queryTypeSchema } from './schema';
import type { MaturityOptions, MaturityQuery, QueryType } from './types';
import { MaturityVariableSupport } from './variables';

/** The query type a new panel query starts with: one number per team. */
export const DEFAULT_QUERY_TYPE: QueryType = 'maturity';

/** The query types an annotation layer can use (annotation-shaped frames, SPEC §4.1). */
export const ANNOTATION_QUERY_TYPES: QueryType[] = ['events', 'levelChanges'];

/** What a query still lacks before the backend can answer it, or undefined when complete. */
export function missingPart(query: Partial<MaturityQuery>): string | undefined {
  if (!query.queryType || !queryTypeSchema(query.queryType)) {
    return 'a query type';
  }
  if (query.queryType === 'targetSeries') {
    const q = query as { targetId?: string; team?: string | string[] };
    const hasTeam = Array.isArray(q.team) ? q.team.length > 0 : Boolean(q.team);
    if (!q.targetId && !hasTeam) {
      return 'a target or a team';
    }
  }
  return undefined;
}

/** The Data-Driven Maturity datasource. */
export class DataSource extends DataSourceWithBackend<MaturityQuery, MaturityOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<MaturityOptions>) {
    super(instanceSettings);
    this.variables = new MaturityVariableSupport(this);
    this.annotations = {
      QueryEditor: AnnotationQueryEditor,
      getDefaultQuery: () => ({ ...defaultsFor('events'), queryType: 'events' }) as Partial<MaturityQuery>,
      // Annotation queries go out with refId `Anno`, as Grafana's own annotation layers do.
      prepareQuery: (anno: AnnotationQuery<MaturityQuery>) => {
        const target = anno.target;
        if (!target || !ANNOTATION_QUERY_TYPES.includes(target.queryType)) {
          return { ...defaultsFor('events'), ...target, queryType: 'events', refId: 'Anno' } as MaturityQuery;
        }
        return { ...target, refId: 'Anno' };
      },
    };
  }

  getDefaultQuery(_app: CoreApp): Partial<MaturityQuery> {
    return defaultsFor(DEFAULT_QUERY_TYPE) as Partial<MaturityQuery>;
  }

  filterQuery(query: MaturityQuery): boolean {
    return !query.hide && missingPart(query) === undefined;
  }

  applyTemplateVariables(query: MaturityQuery, scopedVars: ScopedVars): MaturityQuery {
    return interpolateQuery(query, scopedVars, getTemplateSrv());
  }
}
