//! `levelChanges` (SPEC §4.1): every change of a team's level between consecutive steps of
//! `maturityHistory`, annotation-shaped like `events`, naming the criterion that flipped.

use chrono::{DateTime, Utc};
use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Fields, TEAM};
use super::{decode_as, maturity_history, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::engine::LevelChange;
use crate::model::Invalid;
use crate::plugin::frames::time;

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "levelChanges",
    description: "Every change of a team's maturity level in the time range (between the steps of maturityHistory), as annotations naming the criterion that flipped.",
    frame: "an annotation-shaped table like events, one row per change: time, timeEnd (null), title, text, tags, id, kind (level_change), team, dashboardUID, login.",
    alertable: false,
    fields: &[TEAM],
    decode: decode_as::<LevelChangesQuery>,
};

/// A decoded `levelChanges` query.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelChangesQuery {
    /// Teams.
    pub teams: TeamSelector,
}

impl Query for LevelChangesQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let steps = maturity_history::steps(cx);
        let changes = cx
            .app
            .level_changes(cx.caller, &self.teams, &steps)
            .await?;
        Ok(vec![frame(&changes)])
    }
}

/// The `levelChanges` frame: annotation-shaped like `events`.
pub fn frame(changes: &[(String, LevelChange)]) -> Frame {
    [
        changes.iter().map(|(_, c)| time(c.time)).into_field("time"),
        changes
            .iter()
            .map(|_| None::<DateTime<Utc>>)
            .into_opt_field("timeEnd"),
        changes
            .iter()
            .map(|(t, c)| format!("{t}: level {} → {}", c.from, c.to))
            .into_field("title"),
        changes
            .iter()
            .map(|(_, c)| c.text.clone())
            .into_field("text"),
        changes
            .iter()
            .map(|(t, c)| format!("level-change,{t},{}", c.criterion))
            .into_field("tags"),
        changes
            .iter()
            .map(|(t, c)| format!("{t}:{}", c.time))
            .into_field("id"),
        changes.iter().map(|_| "level_change").into_field("kind"),
        changes.iter().map(|(t, _)| t.clone()).into_field("team"),
        changes.iter().map(|_| "").into_field("dashboardUID"),
        changes.iter().map(|_| "").into_field("login"),
    ]
    .into_frame("levelChanges")
}
