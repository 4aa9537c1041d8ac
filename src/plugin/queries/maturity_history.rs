//! `maturityHistory` (SPEC §4.1): each team's level at steps anchored at `T` over the time
//! range, as one wide series. Owns the step rule `levelChanges` shares.

use std::time::Duration;

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Fields, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::engine::{self, LevelPoint};
use crate::model::{EpochMs, Invalid, DAY_MS};
use crate::plugin::frames::{labelled, time};

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "maturityHistory",
    description: "Each team's maturity level over the time range, one step per day (or per query interval when longer), the last step at the range's end.",
    frame: "a wide time series: time, then one level (number) per team, labelled team=<id>.",
    alertable: false,
    fields: &[TEAM],
    decode: decode_as::<MaturityHistoryQuery>,
};

/// A decoded `maturityHistory` query.
#[derive(Debug, Clone, PartialEq)]
pub struct MaturityHistoryQuery {
    /// Teams.
    pub teams: TeamSelector,
}

/// The step of `maturityHistory`: one day, or the query interval when that is longer.
pub fn history_step(interval: Duration) -> i64 {
    (interval.as_millis() as i64).max(DAY_MS)
}

/// The steps of a history over the query's range: `T`, `T − step`, ... (ascending).
pub fn steps(cx: &QueryContext<'_>) -> Vec<EpochMs> {
    engine::history_steps(cx.from, cx.at, history_step(cx.interval))
}

impl Query for MaturityHistoryQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let steps = steps(cx);
        let history = cx
            .app
            .maturity_history(cx.caller, &self.teams, &steps)
            .await?;
        Ok(vec![frame(&steps, &history)])
    }
}

/// The `maturityHistory` frame: `time` plus one `level` per team labelled `team=<id>`.
pub fn frame(steps: &[EpochMs], history: &[(String, Vec<LevelPoint>)]) -> Frame {
    let mut fields = vec![steps.iter().map(|t| time(*t)).into_field("time")];
    for (team, evals) in history {
        fields.push(labelled(
            evals.iter().map(|e| f64::from(e.level)).into_field("level"),
            "team",
            team,
        ));
    }
    fields.into_frame("maturityHistory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_step_is_at_least_a_day() {
        assert_eq!(history_step(Duration::from_secs(60)), DAY_MS);
        assert_eq!(history_step(Duration::from_secs(7 * 86_400)), 7 * DAY_MS);
    }
}
