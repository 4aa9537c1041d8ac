/* eslint-disable */
/**
 * Generated from query.schema.json (written by the backend: `maturity query-schema`).
 * Do not edit: run `npm run gen:types` in frontend/.
 */

/**
 * A query of the Data-Driven Maturity datasource
 */
export type AnyMaturityQuery =
  | EventsQuery
  | TeamsQuery
  | ReviewActivityQuery
  | ReviewLapseQuery
  | MaturityQuery
  | CriteriaQuery
  | MaturityHistoryQuery
  | LevelChangesQuery
  | TargetsQuery
  | TargetSeriesQuery
  | FollowUpsQuery
  | FollowUpsOverdueQuery
  | VerificationDueQuery;
/**
 * one team id, a list of ids, or all
 */
export type TeamSelector = string | string[];

/**
 * Evidence as annotations
 */
export interface EventsQuery {
  queryType: 'events';
  team?: TeamSelector;
  /**
   * Only these kinds
   */
  kinds?: ('view' | 'review' | 'question' | 'decision' | 'outcome' | 'metric_change' | 'note')[];
  dashboardUid?: string;
  tags?: string[];
  limit?: number;
}
/**
 * Team ids
 */
export interface TeamsQuery {
  queryType: 'teams';
}
/**
 * counts per day
 */
export interface ReviewActivityQuery {
  queryType: 'reviewActivity';
  team?: TeamSelector;
}
/**
 * hours since review
 */
export interface ReviewLapseQuery {
  queryType: 'reviewLapse';
  team?: TeamSelector;
  perDashboard?: boolean;
  measure?: 'hoursSinceReview' | 'hoursOverdue';
}
/**
 * level
 */
export interface MaturityQuery {
  queryType: 'maturity';
  team?: TeamSelector;
}
/**
 * criteria
 */
export interface CriteriaQuery {
  queryType: 'criteria';
  team?: TeamSelector;
}
/**
 * history
 */
export interface MaturityHistoryQuery {
  queryType: 'maturityHistory';
  team?: TeamSelector;
}
/**
 * changes
 */
export interface LevelChangesQuery {
  queryType: 'levelChanges';
  team?: TeamSelector;
}
/**
 * targets
 */
export interface TargetsQuery {
  queryType: 'targets';
  team?: TeamSelector;
  status?: 'undefined' | 'on_track' | 'off_track' | 'due' | 'met' | 'missed';
}
/**
 * series
 */
export interface TargetSeriesQuery {
  queryType: 'targetSeries';
  team?: TeamSelector;
  targetId?: string;
}
/**
 * follow ups
 */
export interface FollowUpsQuery {
  queryType: 'followUps';
  team?: TeamSelector;
  status?: 'open' | 'overdue' | 'done';
}
/**
 * overdue
 */
export interface FollowUpsOverdueQuery {
  queryType: 'followUpsOverdue';
  team?: TeamSelector;
}
/**
 * due
 */
export interface VerificationDueQuery {
  queryType: 'verificationDue';
  team?: TeamSelector;
}
