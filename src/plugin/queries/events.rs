//! `events` (SPEC §4.1): the recorded evidence in the time range, annotation-shaped so that
//! Grafana's default annotation mapping applies (the datasource's annotation query is one).

use grafana_plugin_sdk::arrow2::array::{MutableUtf8Array, Utf8Array};
use grafana_plugin_sdk::data::{Field as FrameField, Frame};
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

/// The first line of a text, as an annotation title; the kind's name when there is none.
fn title_of(e: &Event) -> &str {
    match e.text.lines().next() {
        Some(first) if !first.is_empty() => first,
        _ => kind_title(e.kind),
    }
}

/// A kind's name as a title (`metric change`).
fn kind_title(kind: EventKind) -> &'static str {
    match kind {
        EventKind::MetricChange => "metric change",
        other => other.as_str(),
    }
}

/// A string column of `values` (non-null, as `into_field` makes it), written once into an
/// Arrow buffer of the exact size: collected from an iterator, Arrow grows its buffer by
/// doubling, copying it and mapping fresh pages each time (issue 15: a fifth of an `events`
/// answer went to that growth).
fn text_field<'a, I>(name: &str, values: I) -> FrameField
where
    I: Iterator<Item = &'a str> + Clone,
{
    let bytes: usize = values.clone().map(str::len).sum();
    let mut array = MutableUtf8Array::<i32>::with_capacities(values.size_hint().0, bytes);
    for v in values.clone() {
        array.push(Some(v));
    }
    let mut field = Vec::<&str>::new().into_field(name);
    // The same Arrow type as the empty field's (`Utf8`), so this cannot fail; if it ever
    // did, the column is built the usual way rather than lost.
    let array: Utf8Array<i32> = array.into();
    match field.set_values_array(array) {
        Ok(()) => field,
        Err(_) => values.collect::<Vec<&str>>().into_field(name),
    }
}

/// The `events` frame: annotation-shaped, so Grafana's default mapping applies. Every string
/// column is copied once, from the events straight into its Arrow buffer.
pub fn frame(events: Vec<Event>) -> Frame {
    let tags: Vec<String> = events.iter().map(|e| e.tags.join(",")).collect();
    let events = &events;
    [
        events.iter().map(|e| time(e.time)).into_field("time"),
        events
            .iter()
            .map(|e| e.time_end.map(time))
            .into_opt_field("timeEnd"),
        text_field("title", events.iter().map(title_of)),
        text_field("text", events.iter().map(|e| e.text.as_str())),
        text_field("tags", tags.iter().map(String::as_str)),
        text_field("id", events.iter().map(|e| e.id.as_str())),
        text_field("kind", events.iter().map(|e| e.kind.as_str())),
        text_field(
            "team",
            events.iter().map(|e| e.team.as_deref().unwrap_or_default()),
        ),
        text_field(
            "dashboardUID",
            events
                .iter()
                .map(|e| e.dashboard_uid.as_deref().unwrap_or_default()),
        ),
        text_field("login", events.iter().map(|e| e.user.as_str())),
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
    fn a_kinds_title_is_its_name_with_spaces() {
        for kind in EventKind::ALL {
            assert_eq!(kind_title(kind), kind.as_str().replace('_', " "));
        }
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
