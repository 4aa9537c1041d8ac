//! `events` (SPEC §4.1): the recorded evidence in the time range, annotation-shaped so that
//! Grafana's default annotation mapping applies (the datasource's annotation query is one).

use grafana_plugin_sdk::arrow2::array::MutableUtf8ValuesArray;
use grafana_plugin_sdk::data::Frame;
use grafana_plugin_sdk::prelude::*;

use super::fields::{Field, Fields, Kind, TEAM};
use super::{decode_as, Query, QueryContext, QueryDef};
use crate::app::queries::TeamSelector;
use crate::app::{AppResult, MAX_EVENT_PAGE};
use crate::model::EventFilter;
use crate::model::{EpochMs, Event, EventKind, Invalid};
use crate::plugin::frames::{opt_time_field, text_field, time_field};
use crate::store::{ListedEvent, ListedEvents, StoreError, StoreResult};

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
        let columns = EventsFrame::with_room_for(self.limit);
        let columns = cx.app.visit_events(cx.caller, filter, columns).await?;
        Ok(vec![columns.finish()])
    }
}

/// The first line of a text, as an annotation title; the kind's name when there is none.
fn title_of(text: &str, kind: EventKind) -> &str {
    match text.lines().next() {
        Some(first) if !first.is_empty() => first,
        _ => kind_title(kind),
    }
}

/// A kind's name as a title (`metric change`).
fn kind_title(kind: EventKind) -> &'static str {
    match kind {
        EventKind::MetricChange => "metric change",
        other => other.as_str(),
    }
}

/// The `events` frame, built as the store lists the events: each string is copied once,
/// from the store's row straight into its Arrow column, and no `Event` is made (issue 15:
/// making `Event`s and copying them into the frame was ~31 % of an `events` answer's CPU,
/// these columns are ~9 %). The columns have no validity (every row has every string, as
/// `into_field` makes them), so a push is a copy and an offset.
pub struct EventsFrame {
    time: Vec<EpochMs>,
    time_end: Vec<Option<EpochMs>>,
    title: Column,
    text: Column,
    tags: Column,
    id: Column,
    kind: Column,
    team: Column,
    dashboard_uid: Column,
    login: Column,
    /// A tagged event's tags joined with commas (reused from row to row).
    joined: String,
}

type Column = MutableUtf8ValuesArray<i32>;

/// Bytes set aside per row of a string column: most of the store's ids, logins and short
/// texts fit, so a page's columns seldom grow (longer texts grow theirs).
const BYTES_PER_ROW: usize = 16;

impl EventsFrame {
    /// Columns with room for `rows` (at most a page's worth of rows is set aside).
    pub fn with_room_for(rows: usize) -> Self {
        let rows = rows.min(DEFAULT_QUERY_EVENTS);
        let column = || Column::with_capacities(rows, rows * BYTES_PER_ROW);
        EventsFrame {
            time: Vec::with_capacity(rows),
            time_end: Vec::with_capacity(rows),
            title: column(),
            text: column(),
            tags: column(),
            id: column(),
            kind: column(),
            team: column(),
            dashboard_uid: column(),
            login: column(),
            joined: String::new(),
        }
    }

    /// The frame (annotation-shaped, so Grafana's default mapping applies).
    pub fn finish(self) -> Frame {
        [
            time_field("time", self.time),
            opt_time_field("timeEnd", self.time_end),
            text_field("title", self.title),
            text_field("text", self.text),
            text_field("tags", self.tags),
            text_field("id", self.id),
            text_field("kind", self.kind),
            text_field("team", self.team),
            text_field("dashboardUID", self.dashboard_uid),
            text_field("login", self.login),
        ]
        .into_frame("events")
    }
}

impl ListedEvents for EventsFrame {
    fn take(&mut self, e: ListedEvent<'_>) -> StoreResult<()> {
        let tags = if e.tags_json == "[]" {
            ""
        } else {
            let tags: Vec<String> = serde_json::from_str(e.tags_json).map_err(|err| {
                StoreError::Database(format!("event {:?} has unreadable tags: {err}", e.id))
            })?;
            self.joined.clear();
            for (i, tag) in tags.iter().enumerate() {
                if i > 0 {
                    self.joined.push(',');
                }
                self.joined.push_str(tag);
            }
            &self.joined
        };
        self.tags.push(tags);
        self.time.push(e.time);
        self.time_end.push(e.time_end);
        self.title.push(title_of(e.text, e.kind));
        self.text.push(e.text);
        self.id.push(e.id);
        self.kind.push(e.kind.as_str());
        self.team.push(e.team.unwrap_or_default());
        self.dashboard_uid.push(e.dashboard_uid.unwrap_or_default());
        self.login.push(e.user);
        Ok(())
    }
}

/// The `events` frame of events already made (the same frame as the query's).
pub fn frame(events: Vec<Event>) -> Frame {
    let mut columns = EventsFrame::with_room_for(events.len());
    for e in &events {
        let tags = serde_json::to_string(&e.tags).unwrap_or_else(|_| "[]".into());
        // Tags made by `serde_json` from strings always read back.
        let _ = columns.take(ListedEvent::of(e, &tags));
    }
    columns.finish()
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
