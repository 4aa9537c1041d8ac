//! `criteria` (SPEC §4.1): each team's criteria of the ladder at `T`: passed or not, the
//! measured value against its threshold, and the blocker when failing.

use std::borrow::Borrow;

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Fields, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::engine::Evaluation;
use crate::model::Invalid;

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "criteria",
    description: "Each team's ladder criteria at the end of the time range: passed or not, the measured value, its threshold and what blocks it.",
    frame: "a table, one row per team and criterion: team, level (1 to 7), criterion, passed (boolean), value, threshold (numbers), detail (the blocker when failing).",
    alertable: false,
    fields: &[TEAM],
    decode: decode_as::<CriteriaQuery>,
};

/// A decoded `criteria` query.
#[derive(Debug, Clone, PartialEq)]
pub struct CriteriaQuery {
    /// Teams.
    pub teams: TeamSelector,
}

impl Query for CriteriaQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        Ok(vec![frame(
            &cx.app.maturity_shared(cx.caller, &self.teams, cx.at).await?,
        )])
    }
}

/// The `criteria` frame: one row per team × criterion.
pub fn frame<E: Borrow<Evaluation>>(evals: &[E]) -> Frame {
    let rows: Vec<_> = evals
        .iter()
        .map(Borrow::borrow)
        .flat_map(|e: &Evaluation| e.criteria.iter().map(move |c| (e.team.as_str(), c)))
        .collect();
    [
        rows.iter().map(|(t, _)| t.to_string()).into_field("team"),
        rows.iter()
            .map(|(_, c)| f64::from(c.level))
            .into_field("level"),
        rows.iter().map(|(_, c)| c.id).into_field("criterion"),
        rows.iter().map(|(_, c)| c.passed).into_field("passed"),
        rows.iter().map(|(_, c)| c.value).into_field("value"),
        rows.iter()
            .map(|(_, c)| c.threshold)
            .into_field("threshold"),
        rows.iter()
            .map(|(_, c)| {
                if c.passed {
                    String::new()
                } else {
                    c.detail.clone()
                }
            })
            .into_field("detail"),
    ]
    .into_frame("criteria")
}
