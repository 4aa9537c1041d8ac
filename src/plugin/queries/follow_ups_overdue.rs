//! `followUpsOverdue` (SPEC §4.1, alertable): one row per decision whose follow-up is
//! overdue at `T`, with the days overdue.

use grafana_plugin_sdk::data::Frame;

use super::fields::{Fields, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::model::Invalid;
use crate::plugin::frames::overdue;

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "followUpsOverdue",
    description: "Decisions whose follow-up is overdue at the end of the time range, with the days overdue.",
    frame: "a number table, one row per overdue decision: team, decision (id), days_overdue (number).",
    alertable: true,
    fields: &[TEAM],
    decode: decode_as::<FollowUpsOverdueQuery>,
};

/// A decoded `followUpsOverdue` query.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpsOverdueQuery {
    /// Teams.
    pub teams: TeamSelector,
}

impl Query for FollowUpsOverdueQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let rows = cx
            .app
            .follow_ups_overdue(cx.caller, &self.teams, cx.at)
            .await?;
        Ok(vec![frame(rows.rows())])
    }
}

/// The `followUpsOverdue` frame: (team, decision, days overdue), alertable.
pub fn frame<'a>(rows: impl Iterator<Item = (&'a str, &'a str, f64)> + Clone) -> Frame {
    overdue("followUpsOverdue", "decision", rows)
}
