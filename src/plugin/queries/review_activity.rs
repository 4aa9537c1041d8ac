//! `reviewActivity` (SPEC §4.1): how many reviews, review views, decisions and questions each
//! team recorded per day of the time range, as one wide series.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Fields, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::{Activity, TeamSelector};
use crate::app::AppResult;
use crate::model::Invalid;
use crate::plugin::frames::{labelled, time};

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "reviewActivity",
    description: "How many reviews, review views, decisions and questions each team recorded per day of the time range.",
    frame: "a wide time series, one step per day: time, then reviews, views, decisions and questions (numbers) per team, labelled team=<id>.",
    alertable: false,
    fields: &[TEAM],
    decode: decode_as::<ReviewActivityQuery>,
};

/// A decoded `reviewActivity` query.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewActivityQuery {
    /// Teams.
    pub teams: TeamSelector,
}

impl Query for ReviewActivityQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let activity = cx
            .app
            .review_activity(cx.caller, &self.teams, cx.from, cx.at)
            .await?;
        Ok(vec![frame(&activity)])
    }
}

/// The `reviewActivity` frame: one wide frame, a shared `time` and four counts per team.
pub fn frame(activity: &[Activity]) -> Frame {
    let times = activity
        .first()
        .map(|a| a.times.clone())
        .unwrap_or_default();
    let mut fields = vec![times.iter().map(|t| time(*t)).into_field("time")];
    for a in activity {
        for (name, values) in [
            ("reviews", &a.reviews),
            ("views", &a.views),
            ("decisions", &a.decisions),
            ("questions", &a.questions),
        ] {
            fields.push(labelled(values.clone().into_field(name), "team", &a.team));
        }
    }
    fields.into_frame("reviewActivity")
}
