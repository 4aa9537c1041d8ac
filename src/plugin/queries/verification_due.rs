//! `verificationDue` (SPEC §4.1, alertable): one row per target past its deadline that
//! nobody verified at `T`, with the days since the deadline.

use grafana_plugin_sdk::data::Frame;

use super::fields::{Fields, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::AppResult;
use crate::model::Invalid;
use crate::plugin::frames::overdue;

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "verificationDue",
    description: "Targets past their deadline that nobody verified at the end of the time range, with the days since the deadline.",
    frame: "a number table, one row per unverified target: team, target (name), days_overdue (number).",
    alertable: true,
    fields: &[TEAM],
    decode: decode_as::<VerificationDueQuery>,
};

/// A decoded `verificationDue` query.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationDueQuery {
    /// Teams.
    pub teams: TeamSelector,
}

impl Query for VerificationDueQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self { teams: f.team()? })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let rows = cx
            .app
            .verification_due(cx.caller, &self.teams, cx.at)
            .await?;
        Ok(vec![frame(&rows)])
    }
}

/// The `verificationDue` frame: (team, target, days overdue), alertable.
pub fn frame(rows: &[(String, String, f64)]) -> Frame {
    overdue(
        "verificationDue",
        "target",
        rows.iter().map(|(team, target, days)| (team.as_str(), target.as_str(), *days)),
    )
}
