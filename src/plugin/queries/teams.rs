//! `teams` (SPEC §4.1): every team id of the organisation, for template variables.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::Fields;
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::AppResult;
use crate::model::{Invalid, Team};

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "teams",
    description: "Every team id of the organisation, for template variables.",
    frame: "one string field, team: one row per team.",
    alertable: false,
    fields: &[],
    decode: decode_as::<TeamsQuery>,
};

/// A decoded `teams` query (it has no fields).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamsQuery;

impl Query for TeamsQuery {
    fn decode(_: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self)
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        Ok(vec![frame(&cx.app.teams(cx.caller).await?)])
    }
}

/// The `teams` frame: one string field.
pub fn frame(teams: &[Team]) -> Frame {
    [teams.iter().map(|t| t.id.clone()).into_field("team")].into_frame("teams")
}
