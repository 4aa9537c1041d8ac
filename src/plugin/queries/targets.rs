//! `targets` (SPEC §4.1, §4.2): targets with what is derived at `T`: status, progress,
//! latest actual and projected hit.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Field, Fields, Kind, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::loops::TargetReport;
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::engine::targets::TargetStatus;
use crate::model::{Direction, Invalid};
use crate::plugin::frames::time;

const STATUS: Field = Field::new(
    "status",
    Kind::one_of::<TargetStatus>(None),
    "Status",
    "Only targets with this status at the end of the range; empty means every status.",
);

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "targets",
    description: "Targets (improvement projects) with their status, progress and projected hit at the end of the time range.",
    frame: "a table, one row per target: id, team, name, direction, baseline, target, deadline, latest_actual, progress (0 to 1), status, projected_hit (time, nullable), last_error (why the target's live query last failed; empty when it did not).",
    alertable: false,
    fields: &[TEAM, STATUS],
    decode: decode_as::<TargetsQuery>,
};

/// A decoded `targets` query.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetsQuery {
    /// Teams.
    pub teams: TeamSelector,
    /// Only this status.
    pub status: Option<TargetStatus>,
}

impl Query for TargetsQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self {
            teams: f.team()?,
            status: f.one_of(&STATUS)?,
        })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let reports = cx
            .app
            .target_reports(cx.caller, &self.teams, self.status, cx.at)
            .await?;
        Ok(vec![frame(&reports)])
    }
}

/// The `targets` frame: one row per target with what is derived at `T`.
pub fn frame(reports: &[TargetReport]) -> Frame {
    [
        reports.iter().map(|r| r.target.id.clone()).into_field("id"),
        reports
            .iter()
            .map(|r| r.target.team.clone())
            .into_field("team"),
        reports
            .iter()
            .map(|r| r.target.name.clone())
            .into_field("name"),
        reports
            .iter()
            .map(|r| match r.target.direction {
                Direction::Increase => "increase",
                Direction::Decrease => "decrease",
            })
            .into_field("direction"),
        reports
            .iter()
            .map(|r| r.target.baseline)
            .into_opt_field("baseline"),
        reports
            .iter()
            .map(|r| r.target.target)
            .into_opt_field("target"),
        reports
            .iter()
            .map(|r| r.target.deadline.map(time))
            .into_opt_field("deadline"),
        reports
            .iter()
            .map(|r| r.view.latest_actual)
            .into_opt_field("latest_actual"),
        reports
            .iter()
            .map(|r| r.view.progress)
            .into_opt_field("progress"),
        reports
            .iter()
            .map(|r| r.view.status.as_str())
            .into_field("status"),
        reports
            .iter()
            .map(|r| r.view.projected_hit_at.map(time))
            .into_opt_field("projected_hit"),
        reports
            .iter()
            .map(|r| {
                r.last_error
                    .as_ref()
                    .and_then(|e| e.get("message"))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
            .into_field("last_error"),
    ]
    .into_frame("targets")
}
