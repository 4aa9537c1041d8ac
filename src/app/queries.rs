//! The read use cases behind the query types and `GET /maturity`: load a team's evidence
//! once, hand it to the engine, return plain values (the plugin turns them into frames).

use super::{App, AppError, AppResult, Caller};
use crate::engine::{self, Evaluation, LevelChange, LevelPoint};
use crate::model::{EpochMs, EventKind, Team, DAY_MS};
use crate::store::Evidence;

/// Which teams a query or request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamSelector {
    /// Every team of the org (`team` absent, `*` or `$__all`).
    All,
    /// These ids (one, or a multi-value template variable).
    Only(Vec<String>),
}

impl TeamSelector {
    fn ids(&self) -> Vec<String> {
        match self {
            TeamSelector::All => Vec::new(),
            TeamSelector::Only(ids) => ids.clone(),
        }
    }
}

/// Counts per day for one team (`reviewActivity`).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The team.
    pub team: String,
    /// Start of each day bucket, ascending.
    pub times: Vec<EpochMs>,
    /// Reviews per day.
    pub reviews: Vec<f64>,
    /// Views that count as the team's review evidence, per day.
    pub views: Vec<f64>,
    /// Decisions per day.
    pub decisions: Vec<f64>,
    /// Questions per day.
    pub questions: Vec<f64>,
}

/// One row of `reviewLapse`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lapse {
    /// The team.
    pub team: String,
    /// The dashboard uid, or empty for the team as a whole.
    pub dashboard: String,
    /// Hours from the last review evidence to `T` (the whole window when none).
    pub hours_since_review: f64,
    /// The team's cadence in hours.
    pub cadence_hours: f64,
}

/// Day buckets anchored at `to`: `[to − (k+1)·step, to − k·step)` for every bucket that
/// ends after `from`, returned by start time, ascending.
pub fn day_buckets(from: EpochMs, to: EpochMs, step: i64) -> Vec<EpochMs> {
    let step = step.max(1);
    if to <= from {
        return Vec::new();
    }
    let n = (to - from + step - 1) / step;
    // Bounded so that a huge range cannot exhaust memory: 20 years of days.
    let n = n.min(7400);
    (0..n).rev().map(|k| to - (k + 1) * step).collect()
}

impl App {
    async fn evidence_for(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        from: EpochMs,
        to: EpochMs,
    ) -> AppResult<Evidence> {
        caller.check_read()?;
        let (org, ids) = (caller.org, teams.ids());
        self.with_store(move |s| Ok(s.evidence(org, &ids, from, to)?))
            .await
    }

    /// The `teams` query: every team of the org.
    pub async fn teams(&self, caller: &Caller) -> AppResult<Vec<Team>> {
        self.list_teams(caller).await
    }

    /// `GET /maturity` and the `maturity` / `criteria` queries: the ladder at `at`.
    pub async fn maturity(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<Vec<Evaluation>> {
        let settings = self.settings().maturity.clone();
        let from = at.saturating_sub(settings.window_ms());
        let ev = self.evidence_for(caller, teams, from, at).await?;
        Ok(ev
            .teams
            .iter()
            .map(|t| engine::evaluate(&settings, t, &ev.events, &ev.targets, at))
            .collect())
    }

    /// `GET /maturity?team=X` for one team; 404 when the team does not exist.
    pub async fn maturity_of(
        &self,
        caller: &Caller,
        team: &str,
        at: EpochMs,
    ) -> AppResult<Evaluation> {
        self.maturity(caller, &TeamSelector::Only(vec![team.to_string()]), at)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::NotFound(format!("team {team:?} not found")))
    }

    /// Loads, once, the evidence every step of a history needs.
    async fn history_evidence(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        steps: &[EpochMs],
    ) -> AppResult<Option<Evidence>> {
        let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
            return Ok(None);
        };
        let window = self.settings().maturity.window_ms();
        Ok(Some(
            self.evidence_for(caller, teams, first.saturating_sub(window), *last)
                .await?,
        ))
    }

    /// `maturityHistory`: the level at each step, per team (the cheap path: no sentences).
    pub async fn maturity_history(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        steps: &[EpochMs],
    ) -> AppResult<Vec<(String, Vec<LevelPoint>)>> {
        let Some(ev) = self.history_evidence(caller, teams, steps).await? else {
            return Ok(Vec::new());
        };
        let settings = &self.settings().maturity;
        Ok(ev
            .teams
            .iter()
            .map(|t| {
                (
                    t.id.clone(),
                    engine::level_history(settings, t, &ev.events, &ev.targets, steps),
                )
            })
            .collect())
    }

    /// `levelChanges`: each change of level between consecutive steps, per team.
    pub async fn level_changes(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        steps: &[EpochMs],
    ) -> AppResult<Vec<(String, LevelChange)>> {
        let Some(ev) = self.history_evidence(caller, teams, steps).await? else {
            return Ok(Vec::new());
        };
        let settings = &self.settings().maturity;
        Ok(ev
            .teams
            .iter()
            .flat_map(|t| {
                engine::level_changes_over(settings, t, &ev.events, &ev.targets, steps)
                    .into_iter()
                    .map(|c| (t.id.clone(), c))
            })
            .collect())
    }

    /// `reviewActivity`: counts per day bucket ending at `to`.
    pub async fn review_activity(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        from: EpochMs,
        to: EpochMs,
    ) -> AppResult<Vec<Activity>> {
        let buckets = day_buckets(from, to, DAY_MS);
        let Some(&start) = buckets.first() else {
            return Ok(Vec::new());
        };
        let ev = self.evidence_for(caller, teams, start, to).await?;
        let mut out = Vec::with_capacity(ev.teams.len());
        for team in &ev.teams {
            let n = buckets.len();
            let mut a = Activity {
                team: team.id.clone(),
                times: buckets.clone(),
                reviews: vec![0.0; n],
                views: vec![0.0; n],
                decisions: vec![0.0; n],
                questions: vec![0.0; n],
            };
            for e in &ev.events {
                if e.time < start || e.time >= to {
                    continue;
                }
                let counts = match e.kind {
                    EventKind::View => engine::counts_as_review_evidence(team, e),
                    _ => e.team.as_deref() == Some(team.id.as_str()),
                };
                if !counts {
                    continue;
                }
                let i = ((e.time - start) / DAY_MS) as usize;
                let series = match e.kind {
                    EventKind::Review => &mut a.reviews,
                    EventKind::View => &mut a.views,
                    EventKind::Decision => &mut a.decisions,
                    EventKind::Question => &mut a.questions,
                    _ => continue,
                };
                if let Some(slot) = series.get_mut(i) {
                    *slot += 1.0;
                }
            }
            out.push(a);
        }
        Ok(out)
    }

    /// `reviewLapse`: hours since the last review evidence at `at`, per team or per dashboard.
    pub async fn review_lapse(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        per_dashboard: bool,
        at: EpochMs,
    ) -> AppResult<Vec<Lapse>> {
        let settings = self.settings().maturity.clone();
        let ev = self
            .evidence_for(caller, teams, at.saturating_sub(settings.window_ms()), at)
            .await?;
        let mut rows = Vec::new();
        for team in &ev.teams {
            let cadence_hours = f64::from(team.cadence_days) * 24.0;
            if per_dashboard {
                for d in &team.dashboards {
                    rows.push(Lapse {
                        team: team.id.clone(),
                        dashboard: d.clone(),
                        hours_since_review: engine::hours_since_review(
                            &settings,
                            team,
                            &ev.events,
                            at,
                            Some(d),
                        ),
                        cadence_hours,
                    });
                }
            } else {
                rows.push(Lapse {
                    team: team.id.clone(),
                    dashboard: String::new(),
                    hours_since_review: engine::hours_since_review(
                        &settings, team, &ev.events, at, None,
                    ),
                    cadence_hours,
                });
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_buckets_are_anchored_at_the_end() {
        assert_eq!(
            day_buckets(0, 3 * DAY_MS, DAY_MS),
            vec![0, DAY_MS, 2 * DAY_MS]
        );
        // A partial first day still gets a bucket, anchored at `to`.
        assert_eq!(day_buckets(10, 2 * DAY_MS + 5, DAY_MS), vec![5, DAY_MS + 5]);
        assert!(day_buckets(5, 5, DAY_MS).is_empty());
    }
}
