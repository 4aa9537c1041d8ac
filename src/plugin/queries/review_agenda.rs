//! `reviewAgenda` (SPEC §4.1, issue 13): per team, what to discuss now, one row an item,
//! most urgent first. The rules and the order are the engine's
//! ([`crate::engine::agenda`]); this file decodes the query and writes the frame.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Fields, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::engine::agenda::AgendaItem;
use crate::model::Invalid;
use crate::plugin::frames::time;

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "reviewAgenda",
    description: "What each team should discuss at its review now, most urgent first: lapsed reviews, targets off track or past their deadline, verifications due, decisions whose follow-up is due or overdue, suggested outcomes waiting for a person, a level drop since the last review.",
    frame: "a table, one row per item, most urgent first: team, item (review_lapsed, target_off_track, target_due, verification_due, follow_up_due, follow_up_overdue, outcome_suggested, level_dropped), subject (dashboard uid, team id, target id, criterion id or decision id), detail (a sentence with numbers), since (time: when the item began to hold), dashboardUid (nullable).",
    alertable: false,
    fields: &[TEAM],
    decode: decode_as::<ReviewAgendaQuery>,
};

/// A decoded `reviewAgenda` query.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewAgendaQuery {
    /// Teams.
    pub teams: TeamSelector,
}

impl Query for ReviewAgendaQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let items = cx.app.review_agenda(cx.caller, &self.teams, cx.at).await?;
        Ok(vec![frame(&items)])
    }
}

/// The `reviewAgenda` frame: one row per item, in the order given (the engine's urgency).
pub fn frame(items: &[AgendaItem]) -> Frame {
    [
        items.iter().map(|i| i.team.clone()).into_field("team"),
        items.iter().map(|i| i.item.as_str()).into_field("item"),
        items
            .iter()
            .map(|i| i.subject.clone())
            .into_field("subject"),
        items.iter().map(|i| i.detail.clone()).into_field("detail"),
        items.iter().map(|i| time(i.since)).into_field("since"),
        items
            .iter()
            .map(|i| i.dashboard_uid.clone())
            .into_opt_field("dashboardUid"),
    ]
    .into_frame("reviewAgenda")
}
