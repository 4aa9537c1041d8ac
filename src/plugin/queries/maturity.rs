//! `maturity` (SPEC §4.1, alertable): each team's level on the ladder of SPEC §5 at `T`.

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
    query_type: "maturity",
    description: "Each team's maturity level (0 to 7) at the end of the time range.",
    frame: "a number table, one row per team: team (string), level (number).",
    alertable: true,
    fields: &[TEAM],
    decode: decode_as::<MaturityQuery>,
};

/// A decoded `maturity` query.
#[derive(Debug, Clone, PartialEq)]
pub struct MaturityQuery {
    /// Teams.
    pub teams: TeamSelector,
}

impl Query for MaturityQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        Ok(vec![frame(
            &cx.app.maturity_shared(cx.caller, &self.teams, cx.at).await?,
        )])
    }
}

/// The `maturity` frame: an alertable number table, one row per team.
pub fn frame<E: Borrow<Evaluation>>(evals: &[E]) -> Frame {
    [
        evals.iter().map(|e| e.borrow().team.clone()).into_field("team"),
        evals.iter().map(|e| f64::from(e.borrow().level)).into_field("level"),
    ]
    .into_frame("maturity")
}
