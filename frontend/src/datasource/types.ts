// The datasource's wire types: the query (generated from the backend's schema, plus Grafana's
// DataQuery fields), the settings as Grafana stores them (jsonData / secureJsonData, SPEC §6)
// and the resource API objects the editors read (SPEC §3.1).
import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';

import type { AnyMaturityQuery } from './query.gen';

export * from './query.gen';

/** Every query type the backend answers (SPEC §4.1). */
export type QueryType = AnyMaturityQuery['queryType'];

/** A query as Grafana holds it: one of the backend's query shapes plus refId, hide, datasource. */
export type MaturityQuery = AnyMaturityQuery & DataQuery;

/** Thresholds of the ladder (SPEC §5), each optional: absent means the default. */
export type MaturityThresholds = Partial<Record<ThresholdKey, number>>;

/** The keys of `jsonData.maturity`. */
export type ThresholdKey =
  | 'windowWeeks'
  | 'minQuestions'
  | 'minDefinedTargets'
  | 'loopbackDays'
  | 'reviewRatio'
  | 'adjustmentBlockDays'
  | 'adjustmentRatio'
  | 'decisionRatio'
  | 'followThroughRatio'
  | 'minProjects'
  | 'definedShare'
  | 'verifiedShare'
  | 'verificationGraceDays'
  | 'defaultFollowUpDays'
  | 'paceTolerance';

/** `jsonData` of the datasource (SPEC §6). */
export interface MaturityOptions extends DataSourceJsonData {
  storage?: 'sqlite' | 'postgres';
  databasePath?: string;
  viewersCanAnnotate?: boolean;
  viewSessionMinutes?: number;
  grafanaUrl?: string;
  actualsIntervalMinutes?: number;
  maturity?: MaturityThresholds;
}

/** `secureJsonData`: written once, never sent back to the browser. */
export interface MaturitySecureOptions {
  postgresUrl?: string;
  serviceAccountToken?: string;
}

/** A team as `GET /teams` answers it. */
export interface Team {
  id: string;
  name: string;
  dashboards: string[];
  members: string[];
  cadenceDays: number;
}

/** A target as `GET /targets` answers it (the fields the editors use). */
export interface TargetSummary {
  id: string;
  team: string;
  name: string;
  status?: string;
}

/** A variable query: the teams, or the dashboards of a team. */
export interface MaturityVariableQuery extends DataQuery {
  variable: 'teams' | 'dashboards';
  team?: string;
}
