//! `maturity` (SPEC §4.1, alertable): each team's level on the ladder of SPEC §5 at `T`.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Fields, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
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
        let levels = cx.app.levels(cx.caller, &self.teams, cx.at).await?;
        Ok(vec![frame(
            levels.iter().map(|(team, point)| (team.id.as_str(), point.level)),
        )])
    }
}

/// The `maturity` frame: an alertable number table, one row per (team, level).
pub fn frame<'a>(levels: impl Iterator<Item = (&'a str, u8)> + Clone) -> Frame {
    [
        levels.clone().map(|(team, _)| team.to_string()).into_field("team"),
        levels.map(|(_, level)| f64::from(level)).into_field("level"),
    ]
    .into_frame("maturity")
}
