/* eslint-disable */
/**
 * Generated from query.schema.json (written by the backend: `maturity query-schema`).
 * Do not edit: run `npm run gen:types` in frontend/.
 */

/**
 * A query of the Data-Driven Maturity datasource (SPEC §4): queryType names its type, the other fields are that type's own. Grafana adds refId, datasource, hide and the like; the backend ignores keys it does not know. Written by `maturity query-schema`: do not edit.
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
  | VerificationDueQuery
  | ReviewAgendaQuery;
/**
 * one team id, a list of ids (multi-value variable), or absent / "*" / "$__all" for all teams
 */
export type TeamSelector = string | string[];

/**
 * The evidence recorded in the time range (views, reviews, questions, decisions, outcomes, metric changes, notes), annotation-shaped.
 */
export interface EventsQuery {
  queryType: 'events';
  team?: TeamSelector;
  /**
   * Only events of these kinds; none means every kind.
   */
  kinds?: ('view' | 'review' | 'question' | 'decision' | 'outcome' | 'metric_change' | 'note')[];
  /**
   * Only events on the dashboard with this uid; empty means every dashboard.
   */
  dashboardUid?: string;
  /**
   * Only events that carry every one of these tags.
   */
  tags?: string[];
  /**
   * The most events to return.
   */
  limit?: number;
}
/**
 * Every team id of the organisation, for template variables.
 */
export interface TeamsQuery {
  queryType: 'teams';
}
/**
 * How many reviews, review views, decisions and questions each team recorded per day of the time range.
 */
export interface ReviewActivityQuery {
  queryType: 'reviewActivity';
  team?: TeamSelector;
}
/**
 * How long since each team (or each of its dashboards) was last reviewed, at the end of the time range.
 */
export interface ReviewLapseQuery {
  queryType: 'reviewLapse';
  team?: TeamSelector;
  /**
   * One row per dashboard of each team instead of one per team.
   */
  perDashboard?: boolean;
  /**
   * hoursSinceReview: the hours from the last review evidence to the end of the range (the whole window when there is none); hoursOverdue: that minus the team's cadence in hours, so one alert threshold serves teams of every cadence.
   */
  measure?: 'hoursSinceReview' | 'hoursOverdue';
}
/**
 * Each team's maturity level (0 to 7) at the end of the time range.
 */
export interface MaturityQuery {
  queryType: 'maturity';
  team?: TeamSelector;
}
/**
 * Each team's ladder criteria at the end of the time range: passed or not, the measured value, its threshold and what blocks it.
 */
export interface CriteriaQuery {
  queryType: 'criteria';
  team?: TeamSelector;
}
/**
 * Each team's maturity level over the time range, one step per day (or per query interval when longer), the last step at the range's end.
 */
export interface MaturityHistoryQuery {
  queryType: 'maturityHistory';
  team?: TeamSelector;
}
/**
 * Every change of a team's maturity level in the time range (between the steps of maturityHistory), as annotations naming the criterion that flipped.
 */
export interface LevelChangesQuery {
  queryType: 'levelChanges';
  team?: TeamSelector;
}
/**
 * Targets (improvement projects) with their status, progress and projected hit at the end of the time range.
 */
export interface TargetsQuery {
  queryType: 'targets';
  team?: TeamSelector;
  /**
   * Only targets with this status at the end of the range; empty means every status.
   */
  status?: 'undefined' | 'on_track' | 'off_track' | 'due' | 'met' | 'missed';
}
/**
 * Actual against planned (the glide path) over the time range, for one target (targetId) or every target of the given teams.
 */
export interface TargetSeriesQuery {
  queryType: 'targetSeries';
  team?: TeamSelector;
  /**
   * One target by id; without it, every target of the selected teams (a team is then needed).
   */
  targetId?: string;
}
/**
 * Decisions and their follow-ups at the end of the time range: when each falls due, whether it is open, overdue or done, and its result.
 */
export interface FollowUpsQuery {
  queryType: 'followUps';
  team?: TeamSelector;
  /**
   * Only follow-ups with this status at the end of the range; empty means every status.
   */
  status?: 'open' | 'overdue' | 'done';
}
/**
 * Decisions whose follow-up is overdue at the end of the time range, with the days overdue.
 */
export interface FollowUpsOverdueQuery {
  queryType: 'followUpsOverdue';
  team?: TeamSelector;
}
/**
 * Targets past their deadline that nobody verified at the end of the time range, with the days since the deadline.
 */
export interface VerificationDueQuery {
  queryType: 'verificationDue';
  team?: TeamSelector;
}
/**
 * What each team should discuss at its review now, most urgent first: lapsed reviews, targets off track or past their deadline, verifications due, decisions whose follow-up is due or overdue, suggested outcomes waiting for a person, a level drop since the last review.
 */
export interface ReviewAgendaQuery {
  queryType: 'reviewAgenda';
  team?: TeamSelector;
}
