//! `events` (SPEC §4.1): the recorded evidence in the time range, annotation-shaped so that
//! Grafana's default annotation mapping applies (the datasource's annotation query is one).

use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Field, Fields, Kind, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::{AppResult, MAX_EVENT_PAGE};
use crate::model::EventFilter;
use crate::model::{Event, EventKind, Invalid};
use crate::plugin::frames::time;

/// Default number of events an `events` query returns (annotations of a dashboard range).
pub const DEFAULT_QUERY_EVENTS: usize = 1000;

const KINDS: Field = Field::new(
    "kinds",
    Kind::list_of::<EventKind>(),
    "Kinds",
    "Only events of these kinds; none means every kind.",
);

const DASHBOARD_UID: Field = Field::new(
    "dashboardUid",
    Kind::Text,
    "Dashboard",
    "Only events on the dashboard with this uid; empty means every dashboard.",
)
.with_aliases(&["dashboardUID"]);

const TAGS: Field = Field::new(
    "tags",
    Kind::Strings,
    "Tags",
    "Only events that carry every one of these tags.",
);

const LIMIT: Field = Field::new(
    "limit",
    Kind::Integer {
        minimum: 1,
        maximum: MAX_EVENT_PAGE as i64,
        default: DEFAULT_QUERY_EVENTS as i64,
    },
    "Limit",
    "The most events to return.",
);

/// The registry's entry.
pub const DEF: QueryDef = QueryDef {
    query_type: "events",
    description: "The evidence recorded in the time range (views, reviews, questions, decisions, outcomes, metric changes, notes), annotation-shaped.",
    frame: "an annotation-shaped table, one row per event: time, timeEnd (nullable), title, text, tags (comma-joined), id, kind, team, dashboardUID, login.",
    alertable: false,
    fields: &[TEAM, KINDS, DASHBOARD_UID, TAGS, LIMIT],
    decode: decode_as::<EventsQuery>,
};

/// A decoded `events` query.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsQuery {
    /// Kinds (empty = all).
    pub kinds: Vec<EventKind>,
    /// Teams.
    pub teams: TeamSelector,
    /// Dashboard filter.
    pub dashboard_uid: Option<String>,
    /// Tags that must all be present.
    pub tags: Vec<String>,
    /// Page size.
    pub limit: usize,
}

impl Query for EventsQuery {
    fn decode(f: &Fields<'_>) -> Result<Self, Invalid> {
        Ok(Self {
            kinds: f.list_of(&KINDS)?,
            limit: f.integer(&LIMIT)? as usize,
            teams: f.team()?,
            dashboard_uid: f.text(&DASHBOARD_UID)?,
            tags: f.strings(&TAGS)?,
        })
    }

    async fn answer(&self, cx: &QueryContext<'_>) -> AppResult<Vec<Frame>> {
        let filter = EventFilter {
            kinds: self.kinds.clone(),
            teams: match &self.teams {
                TeamSelector::All => Vec::new(),
                TeamSelector::Only(ids) => ids.clone(),
            },
            dashboard_uid: self.dashboard_uid.clone(),
            from: Some(cx.from),
            to: Some(cx.to),
            tags: self.tags.clone(),
            limit: self.limit,
            offset: 0,
            // The frame shows no `data`: the store need not read it.
            without_data: true,
        };
        Ok(vec![frame(cx.app.list_events(cx.caller, filter).await?)])
    }
}

/// The first line of a text, as an annotation title.
fn title_of(e: &Event) -> String {
    let first = e.text.lines().next().unwrap_or_default();
    if first.is_empty() {
        e.kind.as_str().replace('_', " ")
    } else {
        first.to_string()
    }
}

/// The `events` frame: annotation-shaped, so Grafana's default mapping applies. Takes the
/// events by value: each string moves into its column instead of being copied (issue 15).
pub fn frame(events: Vec<Event>) -> Frame {
    let n = events.len();
    let mut times = Vec::with_capacity(n);
    let mut ends = Vec::with_capacity(n);
    let mut titles = Vec::with_capacity(n);
    let mut texts = Vec::with_capacity(n);
    let mut tags = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut teams = Vec::with_capacity(n);
    let mut dashboards = Vec::with_capacity(n);
    let mut logins = Vec::with_capacity(n);
    for e in events {
        times.push(time(e.time));
        ends.push(e.time_end.map(time));
        titles.push(title_of(&e));
        tags.push(e.tags.join(","));
        kinds.push(e.kind.as_str());
        texts.push(e.text);
        ids.push(e.id);
        teams.push(e.team.unwrap_or_default());
        dashboards.push(e.dashboard_uid.unwrap_or_default());
        logins.push(e.user);
    }
    [
        times.into_field("time"),
        ends.into_opt_field("timeEnd"),
        titles.into_field("title"),
        texts.into_field("text"),
        tags.into_field("tags"),
        ids.into_field("id"),
        kinds.into_field("kind"),
        teams.into_field("team"),
        dashboards.into_field("dashboardUID"),
        logins.into_field("login"),
    ]
    .into_frame("events")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(v: serde_json::Value) -> Result<EventsQuery, Invalid> {
        let o = v.as_object().cloned().unwrap_or_default();
        EventsQuery::decode(&Fields::new(&o, DEF.fields))
    }

    #[test]
    fn events_decode_with_defaults_and_either_spelling_of_the_dashboard() {
        assert_eq!(
            decode(json!({})),
            Ok(EventsQuery {
                kinds: vec![],
                teams: TeamSelector::All,
                dashboard_uid: None,
                tags: vec![],
                limit: DEFAULT_QUERY_EVENTS,
            })
        );
        let q = decode(
            json!({"kinds": "review, metric-change", "dashboardUID": "d1",
            "tags": ["weekly"], "limit": "20", "team": "payments"}),
        )
        .expect("decodes");
        assert_eq!(q.kinds, vec![EventKind::Review, EventKind::MetricChange]);
        assert_eq!(q.dashboard_uid.as_deref(), Some("d1"));
        assert_eq!((q.tags, q.limit), (vec!["weekly".to_string()], 20));
        assert_eq!(
            decode(json!({"kinds": ["vote"]})).expect_err("kind").field,
            "kinds"
        );
        assert_eq!(
            decode(json!({"limit": MAX_EVENT_PAGE + 1}))
                .expect_err("limit")
                .message,
            format!(
                "must be from 1 to {MAX_EVENT_PAGE}, got {}",
                MAX_EVENT_PAGE + 1
            )
        );
    }
}
