//! `reviewLapse` (SPEC §4.1, alertable): how long since each team, or each of its
//! dashboards, was last reviewed at `T`, in hours or in hours past the team's cadence.

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Field, Fields, Kind, WireEnum, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::{Lapse, TeamSelector};
use crate::app::AppResult;
use crate::model::Invalid;

/// Which number `reviewLapse` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LapseMeasure {
    /// Hours since the last review evidence.
    HoursSinceReview,
    /// That minus the team's cadence in hours.
    HoursOverdue,
}

impl LapseMeasure {
    /// Every measure, the default first.
    pub const ALL: [LapseMeasure; 2] = [LapseMeasure::HoursSinceReview, LapseMeasure::HoursOverdue];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LapseMeasure::HoursSinceReview => "hoursSinceReview",
            LapseMeasure::HoursOverdue => "hoursOverdue",
        }
    }
}

impl WireEnum for LapseMeasure {
    const NOUN: &'static str = "measure";
    const ALL: &'static [Self] = &LapseMeasure::ALL;
    fn wire_name(self) -> &'static str {
        self.as_str()
    }
}

const PER_DASHBOARD: Field = Field::new(
    "perDashboard",
    Kind::Bool { default: false },
    "Per dashboard",
    "One row per dashboard of each team instead of one per team.",
);

const MEASURE: Field = Field::new(
    "measure",
    Kind::one_of::<LapseMeasure>(Some(LapseMeasure::HoursSinceReview.as_str())),
    "Measure",
    "hoursSinceReview: the hours from the last review evidence to the end of the range (the whole window when there is none); hoursOverdue: that minus the team's cadence in hours, so one alert threshold serves teams of every cadence.",
);

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "reviewLapse",
    description: "How long since each team (or each of its dashboards) was last reviewed, at the end of the time range.",
    frame: "a number table, one row per team or dashboard: team, dashboard (uid, empty for the team as a whole) and one number, hours_since_review or hours_overdue (by measure).",
    alertable: true,
    fields: &[TEAM, PER_DASHBOARD, MEASURE],
    decode: decode_as::<ReviewLapseQuery>,
};

/// A decoded `reviewLapse` query.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewLapseQuery {
    /// Teams.
    pub teams: TeamSelector,
    /// One row per dashboard instead of per team.
    pub per_dashboard: bool,
    /// Which number.
    pub measure: LapseMeasure,
}

impl Query for ReviewLapseQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        let measure = f.one_of_or_default(&MEASURE)?;
        Ok(Self {
            teams: f.team()?,
            per_dashboard: f.boolean(&PER_DASHBOARD)?,
            measure,
        })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let rows = cx
            .app
            .review_lapse(cx.caller, &self.teams, self.per_dashboard, cx.at)
            .await?;
        Ok(vec![frame(&rows, self.measure)])
    }
}

/// The `reviewLapse` frame: an alertable number table (strings, then exactly one number).
pub fn frame(rows: &[Lapse], measure: LapseMeasure) -> Frame {
    let (name, values): (&str, Vec<f64>) = match measure {
        LapseMeasure::HoursSinceReview => (
            "hours_since_review",
            rows.iter().map(|r| r.hours_since_review).collect(),
        ),
        LapseMeasure::HoursOverdue => (
            "hours_overdue",
            rows.iter()
                .map(|r| r.hours_since_review - r.cadence_hours)
                .collect(),
        ),
    };
    [
        rows.iter().map(|r| r.team.clone()).into_field("team"),
        rows.iter()
            .map(|r| r.dashboard.clone())
            .into_field("dashboard"),
        values.into_field(name),
    ]
    .into_frame("reviewLapse")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(v: serde_json::Value) -> Result<ReviewLapseQuery, Invalid> {
        let o = v.as_object().cloned().unwrap_or_default();
        ReviewLapseQuery::decode(&Fields::new(&o, DEF.fields))
    }

    #[test]
    fn review_lapse_measures_hours_since_review_unless_told_otherwise() {
        let q = decode(json!({})).expect("decodes");
        assert_eq!(
            (q.measure, q.per_dashboard),
            (LapseMeasure::HoursSinceReview, false)
        );
        assert_eq!(
            decode(json!({"measure": ""})).map(|q| q.measure),
            Ok(LapseMeasure::HoursSinceReview)
        );
        let q = decode(json!({"measure": "hoursOverdue", "perDashboard": true})).expect("decodes");
        assert_eq!((q.measure, q.per_dashboard), (LapseMeasure::HoursOverdue, true));
        assert_eq!(
            decode(json!({"measure": "days"})).expect_err("m").message,
            "unknown measure \"days\"; one of hoursSinceReview, hoursOverdue"
        );
    }
}
