//! `followUps` (SPEC §4.1): decisions with their follow-up at `T`: when each falls due,
//! whether it is open, overdue or done, and its result.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Field, Fields, Kind, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::loops::FollowUpRow;
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::engine::targets::FollowUpStatus;
use crate::model::Invalid;
use crate::plugin::frames::time;

const STATUS: Field = Field::new(
    "status",
    Kind::one_of::<FollowUpStatus>(None),
    "Status",
    "Only follow-ups with this status at the end of the range; empty means every status.",
);

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "followUps",
    description: "Decisions and their follow-ups at the end of the time range: when each falls due, whether it is open, overdue or done, and its result.",
    frame: "a table, one row per decision: id, team, text, follow_up_at (time), status (open, overdue or done), result, and the plugin's suggestion from the decision's query until a person posts the outcome: suggested_result (confirmed, not_confirmed, inconclusive or empty), suggested_before, suggested_after (the query's means before and since the decision, nullable).",
    alertable: false,
    fields: &[TEAM, STATUS],
    decode: decode_as::<FollowUpsQuery>,
};

/// A decoded `followUps` query.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpsQuery {
    /// Teams.
    pub teams: TeamSelector,
    /// Only this status.
    pub status: Option<FollowUpStatus>,
}

impl Query for FollowUpsQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self {
            teams: f.team()?,
            status: f.one_of(&STATUS)?,
        })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let rows = cx
            .app
            .follow_ups(cx.caller, &self.teams, self.status, cx.at)
            .await?;
        Ok(vec![frame(&rows)])
    }
}

/// The `followUps` frame: decisions with their follow-up state.
pub fn frame(rows: &[FollowUpRow]) -> Frame {
    [
        rows.iter().map(|r| r.id.clone()).into_field("id"),
        rows.iter().map(|r| r.team.clone()).into_field("team"),
        rows.iter().map(|r| r.text.clone()).into_field("text"),
        rows.iter()
            .map(|r| time(r.follow_up_at))
            .into_field("follow_up_at"),
        rows.iter().map(|r| r.status.as_str()).into_field("status"),
        rows.iter()
            .map(|r| r.result.clone().unwrap_or_default())
            .into_field("result"),
        rows.iter()
            .map(|r| {
                r.suggested
                    .as_ref()
                    .map(|s| crate::engine::suggest::result_name(s.result))
                    .unwrap_or_default()
            })
            .into_field("suggested_result"),
        rows.iter()
            .map(|r| r.suggested.as_ref().and_then(|s| s.before))
            .into_opt_field("suggested_before"),
        rows.iter()
            .map(|r| r.suggested.as_ref().and_then(|s| s.after))
            .into_opt_field("suggested_after"),
    ]
    .into_frame("followUps")
}
