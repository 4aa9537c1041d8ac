//! `targetSeries` (SPEC §4.1, §4.2): actual against planned (the glide path) over the time
//! range, one wide frame per target: one target by id, or every target of the given teams.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Field, Fields, Kind, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::loops::TargetSeries;
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::model::Invalid;
use crate::plugin::frames::{labelled, time};

const TARGET_ID: Field = Field::new(
    "targetId",
    Kind::Text,
    "Target",
    "One target by id; without it, every target of the selected teams (a team is then needed).",
);

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "targetSeries",
    description: "Actual against planned (the glide path) over the time range, for one target (targetId) or every target of the given teams.",
    frame: "one wide time series per target: time, actual and planned (numbers, nullable), labelled target=<name>.",
    alertable: false,
    fields: &[TEAM, TARGET_ID],
    decode: decode_as::<TargetSeriesQuery>,
};

/// A decoded `targetSeries` query.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSeriesQuery {
    /// One target.
    pub target_id: Option<String>,
    /// Or a team's targets.
    pub teams: TeamSelector,
}

impl Query for TargetSeriesQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self {
            target_id: f.text(&TARGET_ID)?,
            teams: f.team()?,
        })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let series = cx
            .app
            .target_series(
                cx.caller,
                self.target_id.as_deref(),
                &self.teams,
                cx.from,
                cx.to,
            )
            .await?;
        Ok(series.iter().map(frame).collect())
    }
}

/// One `targetSeries` frame: `actual` and `planned` labelled `target=<name>`.
pub fn frame(s: &TargetSeries) -> Frame {
    [
        s.times.iter().map(|t| time(*t)).into_field("time"),
        labelled(s.actual.clone().into_opt_field("actual"), "target", &s.name),
        labelled(
            s.planned.clone().into_opt_field("planned"),
            "target",
            &s.name,
        ),
    ]
    .into_frame(s.name.clone())
}
