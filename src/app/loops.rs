//! The loops of the model as read use cases: targets with their derived status, the
//! target-vs-plan series, decision follow-ups, and what is overdue (SPEC §4.1, §4.2).

use std::sync::Arc;

use serde::Serialize;

use super::queries::TeamSelector;
use super::{App, AppResult, Caller};
use crate::engine::targets::{
    self, DecisionLog, FollowUpStatus, LoggedDecision, TargetStatus, TargetView,
};
use crate::engine::Timed;
use crate::model::{EpochMs, Invalid, Target, Team, DAY_MS};

/// A target as `GET /targets` answers it: the stored object plus what is derived at `T`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetReport {
    /// The stored target.
    #[serde(flatten)]
    pub target: Target,
    /// Derived at the evaluation instant.
    #[serde(flatten)]
    pub view: TargetView,
    /// Why the last evaluation of its live query failed (`{at, message, fault}`), until the
    /// next success (issue 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<serde_json::Value>,
}

/// One row of `followUps`.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpRow {
    /// Decision id.
    pub id: String,
    /// Its team.
    pub team: String,
    /// Its text.
    pub text: String,
    /// When it falls due.
    pub follow_up_at: EpochMs,
    /// Open, overdue or done.
    pub status: FollowUpStatus,
    /// The outcome's result, when done.
    pub result: Option<String>,
    /// The plugin's suggested result from the decision's query (issue 12), until a person
    /// posts the outcome.
    pub suggested: Option<crate::engine::suggest::SuggestedOutcome>,
}

/// The rows of `followUpsOverdue`, (team, decision id, days overdue) in due order then by
/// id, borrowed from the teams' decision logs until a frame is made of them: an all-team
/// query answers thousands of rows, and copying every id and team into the rows and again
/// into the frame was a sixth of its work under the load test (perf, issue 15).
#[derive(Debug)]
pub struct OverdueFollowUps {
    logs: Vec<Arc<DecisionLog>>,
    /// (log, position in it, days overdue).
    rows: Vec<(usize, usize, f64)>,
}

impl OverdueFollowUps {
    /// The rows, in order; of known length, so that each column of the frame is made at
    /// its size.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = (&str, &str, f64)> + Clone {
        self.rows.iter().map(|&(log, position, days)| {
            // Every (log, position) was taken from these logs: never absent.
            let decision = self.logs.get(log).and_then(|l| l.decision(position));
            decision.map_or(("", "", days), |d| {
                (d.team.as_deref().unwrap_or_default(), d.id.as_str(), days)
            })
        })
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A target and its plan vs actual points inside a range (`targetSeries`).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSeries {
    /// Target name (the label).
    pub name: String,
    /// Times, ascending: every actual in range plus the glide path's corners in range.
    pub times: Vec<EpochMs>,
    /// The actual measured at each time, if one was.
    pub actual: Vec<Option<f64>>,
    /// The glide path at each time (absent for an undefined target).
    pub planned: Vec<Option<f64>>,
}

/// Parses a `status` filter of targets.
pub fn target_status_filter(s: Option<&str>) -> Result<Option<TargetStatus>, Invalid> {
    s.filter(|s| !s.is_empty())
        .map(|s| {
            TargetStatus::parse(s).ok_or_else(|| {
                Invalid::new(
                    "status",
                    format!(
                        "unknown status {s:?}; one of {}",
                        TargetStatus::ALL.map(TargetStatus::as_str).join(", ")
                    ),
                )
            })
        })
        .transpose()
}

/// Parses a `status` filter of follow-ups.
pub fn follow_up_status_filter(s: Option<&str>) -> Result<Option<FollowUpStatus>, Invalid> {
    s.filter(|s| !s.is_empty())
        .map(|s| {
            FollowUpStatus::parse(s).ok_or_else(|| {
                Invalid::new(
                    "status",
                    format!(
                        "unknown status {s:?}; one of {}",
                        FollowUpStatus::ALL.map(FollowUpStatus::as_str).join(", ")
                    ),
                )
            })
        })
        .transpose()
}

impl App {
    /// `GET /targets` and the `targets` query: targets with status, progress and projection at `at`.
    pub async fn target_reports(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        status: Option<TargetStatus>,
        at: EpochMs,
    ) -> AppResult<Vec<TargetReport>> {
        let settings = self.settings().maturity.clone();
        let targets = self.team_targets(caller, teams).await?;
        let mut errors = self.target_errors(caller.org).await?;
        Ok(targets
            .into_iter()
            .map(|t| TargetReport {
                view: targets::view(&settings, &t, at),
                last_error: errors.remove(&t.id),
                target: t,
            })
            .filter(|r| status.is_none_or(|s| r.view.status == s))
            .collect())
    }

    /// The targets of the selected teams, by team then id, as the store lists them. A team
    /// whose kept evidence (issue 15) is at its current versions answers from it: a write of
    /// a target raises its team's version, and `add_actuals` takes the target it wrote into
    /// the kept evidence, so the kept targets are the team's at those versions. The other
    /// teams' are read. Every target names a listed team (its team must exist when it is
    /// written, and a team with targets is deleted only with them), so the listed teams'
    /// targets are all of the org's. On PostgreSQL, where every target and its actuals were
    /// read each time, the `targets` query's p99 under the load test fell from ~70 to ~27 ms.
    async fn team_targets(&self, caller: &Caller, teams: &TeamSelector) -> AppResult<Vec<Target>> {
        caller.check_read()?;
        let org = caller.org;
        let (versions, listed) = self.versions_and_teams(org).await?;
        let mut found: Vec<Target> = Vec::new();
        let mut to_read: Vec<String> = Vec::new();
        for team in listed.iter().filter(|t| teams.selects(&t.id)) {
            // Kept from any read: every read holds all of its teams' targets.
            let fingerprint = versions.fingerprint(team);
            match self
                .follower
                .kept
                .get(org, team, &fingerprint, EpochMs::MAX)
            {
                Some(inputs) => found.extend_from_slice(inputs.targets()),
                None => to_read.push(team.id.clone()),
            }
        }
        if !to_read.is_empty() {
            found.extend(self.list_targets(caller, to_read).await?);
        }
        found.sort_by(|a, b| (&a.team, &a.id).cmp(&(&b.team, &b.id)));
        Ok(found)
    }

    /// `GET /targets/{id}` with what is derived at `at`.
    pub async fn target_report(
        &self,
        caller: &Caller,
        id: &str,
        at: EpochMs,
    ) -> AppResult<TargetReport> {
        let t = self.get_target(caller, id).await?;
        Ok(TargetReport {
            view: targets::view(&self.settings().maturity, &t, at),
            last_error: self.target_errors(caller.org).await?.remove(&t.id),
            target: t,
        })
    }

    /// `targetSeries`: actual vs planned per target in `[from, to]`, for one target or a team's.
    pub async fn target_series(
        &self,
        caller: &Caller,
        target_id: Option<&str>,
        teams: &TeamSelector,
        from: EpochMs,
        to: EpochMs,
    ) -> AppResult<Vec<TargetSeries>> {
        let chosen: Vec<Target> = match target_id {
            Some(id) => vec![self.get_target(caller, id).await?],
            None => match teams {
                TeamSelector::All => {
                    return Err(Invalid::new("targetId", "give a targetId or a team").into());
                }
                TeamSelector::Only(_) => self.team_targets(caller, teams).await?,
            },
        };
        Ok(chosen
            .iter()
            .map(|t| {
                let mut times: Vec<EpochMs> = t.actuals.iter().map(|a| a.time).collect();
                times.push(t.start_at);
                times.extend(t.deadline);
                times.retain(|x| (from..=to).contains(x));
                times.sort_unstable();
                times.dedup();
                TargetSeries {
                    name: t.name.clone(),
                    actual: times
                        .iter()
                        .map(|x| {
                            t.actuals
                                .iter()
                                .rev()
                                .find(|a| a.time == *x)
                                .map(|a| a.value)
                        })
                        .collect(),
                    planned: times
                        .iter()
                        .map(|x| {
                            (t.start_at..=t.deadline.unwrap_or(i64::MIN))
                                .contains(x)
                                .then(|| targets::planned(t, *x))
                                .flatten()
                        })
                        .collect(),
                    times,
                }
            })
            .collect())
    }

    /// `followUps`: every decision of the teams taken before `at`, with its follow-up state.
    /// Each team's decisions and their outcomes are kept (issue 15): read whatever their age,
    /// they answer for every instant until the team's evidence changes.
    pub async fn follow_ups(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        status: Option<FollowUpStatus>,
        at: EpochMs,
    ) -> AppResult<Vec<FollowUpRow>> {
        let per_team = self.decision_logs(caller, teams, at).await?;
        let mut rows: Vec<FollowUpRow> = per_team
            .iter()
            .flat_map(|(_, log)| log.follow_ups(at))
            .filter(|f| status.is_none_or(|s| f.status == s))
            .map(|f| FollowUpRow {
                id: f.decision.id.clone(),
                team: f.decision.team.clone().unwrap_or_default(),
                text: f.decision.text.clone(),
                follow_up_at: f.decision.follow_up_at,
                status: f.status,
                suggested: (f.result.is_none())
                    .then(|| f.decision.suggested.clone())
                    .flatten()
                    .filter(|s| s.evaluated_at.is_none_or(|t| t <= at)),
                result: f.result,
            })
            .collect();
        // In due order, whatever the teams' order.
        rows.sort_by(|a, b| {
            a.follow_up_at
                .cmp(&b.follow_up_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(rows)
    }

    /// Each selected team's decisions with their outcomes (the decisions cache, issue 15).
    async fn decision_logs(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<Vec<(Team, std::sync::Arc<DecisionLog>)>> {
        let settings = self.settings().maturity.clone();
        // Every decision and outcome is read whatever the range; the range is the one
        // `maturity` and `reviewLapse` read, so that the evidence kept for a team (issue 15)
        // serves all three.
        let from = at.saturating_sub(settings.window_ms());
        self.cached_per_team(
            caller,
            teams,
            &self.decisions,
            at,
            EpochMs::MIN,
            (from, EpochMs::MAX),
            &DecisionLog::KINDS,
            move |_, events, _| Timed {
                value: std::sync::Arc::new(DecisionLog::new(&settings, events)),
                stable_until: EpochMs::MAX,
            },
        )
        .await
    }

    /// `followUpsOverdue`: (team, decision, days overdue) for every overdue follow-up.
    pub async fn follow_ups_overdue(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<OverdueFollowUps> {
        let logs: Vec<Arc<DecisionLog>> = self
            .decision_logs(caller, teams, at)
            .await?
            .into_iter()
            .map(|(_, log)| log)
            .collect();
        let mut overdue: Vec<(&LoggedDecision, usize, usize)> = logs
            .iter()
            .enumerate()
            .flat_map(|(l, log)| log.overdue(at).map(move |(p, d)| (d, l, p)))
            .collect();
        // In due order, then by id, as `followUps` lists them (ids are unique in an org, so
        // the order is total and an unstable sort, which needs no buffer, gives it).
        overdue.sort_unstable_by(|a, b| a.0.due_order().cmp(&b.0.due_order()));
        let rows = overdue
            .into_iter()
            .map(|(d, l, p)| (l, p, (at - d.follow_up_at) as f64 / DAY_MS as f64))
            .collect();
        Ok(OverdueFollowUps { logs, rows })
    }

    /// `verificationDue`: (team, target name, days overdue) for every project past its
    /// deadline with no verification. Names repeated within a team get the id appended so
    /// each alert instance stays unique.
    pub async fn verification_due(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<Vec<(String, String, f64)>> {
        let all = self.team_targets(caller, teams).await?;
        let mut rows: Vec<(String, String, f64)> = Vec::new();
        for t in &all {
            if let Some(days) = targets::verification_days_overdue(t, at) {
                let twin = all
                    .iter()
                    .filter(|o| o.team == t.team && o.name == t.name)
                    .count()
                    > 1;
                let name = if twin {
                    format!("{} ({})", t.name, t.id)
                } else {
                    t.name.clone()
                };
                rows.push((t.team.clone(), name, days));
            }
        }
        Ok(rows)
    }
}
