//! The domain objects of SPEC §3.1 (teams, events, targets) as validated types, and the
//! parsing of wire values (ids, kinds, times) into them.
//!
//! Everything here is pure: no clock, no I/O. The engine and the store share these types.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Milliseconds since the Unix epoch, UTC (Grafana's convention on the wire).
pub type EpochMs = i64;

/// Grafana's organisation id; every row carries one and every verb is scoped by it.
pub type OrgId = i64;

/// One day in milliseconds: SPEC §5 counts days as exactly this, with no calendar.
pub const DAY_MS: i64 = 86_400_000;

/// A value that failed validation, naming the field that carried it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The wire name of the offending field (`time`, `data.decisionId`, ...).
    pub field: String,
    /// A sentence a user can act on.
    pub message: String,
}

impl Invalid {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A team id: a slug `[a-z0-9][a-z0-9-]{0,62}`.
pub fn validate_team_id(field: &str, id: &str) -> Result<(), Invalid> {
    let mut chars = id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if first_ok && rest_ok && id.len() <= 63 {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!("team id {id:?} must be 1 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit"),
        ))
    }
}

/// An object id given on create (events, targets): 1 to 64 of `A-Za-z0-9._:-`.
pub fn validate_object_id(field: &str, id: &str) -> Result<(), Invalid> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!("id {id:?} must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'"),
        ))
    }
}

/// Parses a wire time: epoch milliseconds (a JSON number, or a string of digits) or an
/// RFC 3339 string; fractional seconds are kept to the millisecond.
pub fn parse_time(field: &str, value: &Value) -> Result<EpochMs, Invalid> {
    match value {
        Value::Number(n) => {
            if let Some(ms) = n.as_i64() {
                return Ok(ms);
            }
            match n.as_f64() {
                Some(f) if f.is_finite() && f.abs() < 9.0e15 => Ok(f.floor() as i64),
                _ => Err(Invalid::new(field, format!("time {n} is out of range"))),
            }
        }
        Value::String(s) => parse_time_str(field, s),
        other => Err(Invalid::new(
            field,
            format!(
                "expected a time (epoch milliseconds or an RFC 3339 string), got {}",
                type_name(other)
            ),
        )),
    }
}

/// Parses a time given as text (a query-string parameter, a command-line flag).
pub fn parse_time_str(field: &str, s: &str) -> Result<EpochMs, Invalid> {
    let trimmed = s.trim();
    if let Ok(ms) = trimmed.parse::<i64>() {
        return Ok(ms);
    }
    let parsed =
        time::OffsetDateTime::parse(trimmed, &time::format_description::well_known::Rfc3339)
            .map_err(|e| {
                Invalid::new(
                    field,
                    format!("{s:?} is neither epoch milliseconds nor an RFC 3339 time ({e})"),
                )
            })?;
    let ms = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).map_err(|_| Invalid::new(field, format!("time {s:?} is out of range")))
}

/// Formats epoch milliseconds as RFC 3339 UTC (for people: the command-line report, texts).
pub fn format_time(ms: EpochMs) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => t
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| ms.to_string()),
        Err(_) => ms.to_string(),
    }
}

/// The JSON type of a value, for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A team and the dashboards it owns (SPEC §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    /// Slug id, unique in the org.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Uids of the team's own dashboards ("Service Levels dashboards").
    pub dashboards: Vec<String>,
    /// Grafana logins of the members; empty means anyone counts.
    pub members: Vec<String>,
    /// Length of one review period in days.
    pub cadence_days: u32,
    /// When the team was created (never used by an evaluation).
    pub created_at: EpochMs,
}

/// The kinds of evidence an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Someone looked at a dashboard.
    View,
    /// A team reviewed its dashboards in a ritual.
    Review,
    /// An ad-hoc question asked of the data.
    Question,
    /// A decision taken because of a metric.
    Decision,
    /// The follow-up of a decision.
    Outcome,
    /// A metric, panel or dashboard added or changed to fill a gap.
    MetricChange,
    /// Anything else.
    Note,
}

impl EventKind {
    /// Every kind, in the order of SPEC §3.1.
    pub const ALL: [EventKind; 7] = [
        EventKind::View,
        EventKind::Review,
        EventKind::Question,
        EventKind::Decision,
        EventKind::Outcome,
        EventKind::MetricChange,
        EventKind::Note,
    ];

    /// The wire name (`metric_change`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::Review => "review",
            EventKind::Question => "question",
            EventKind::Decision => "decision",
            EventKind::Outcome => "outcome",
            EventKind::MetricChange => "metric_change",
            EventKind::Note => "note",
        }
    }

    /// Parses a wire name; `metric-change` (the annotation tag spelling) is accepted too.
    pub fn parse(s: &str) -> Option<EventKind> {
        match s {
            "metric-change" => Some(EventKind::MetricChange),
            _ => EventKind::ALL.into_iter().find(|k| k.as_str() == s),
        }
    }

    /// Kinds a Viewer may record (SPEC §3.2), unless the datasource says otherwise.
    pub fn viewer_may_record(self) -> bool {
        matches!(
            self,
            EventKind::View
                | EventKind::Review
                | EventKind::Question
                | EventKind::Decision
                | EventKind::Outcome
        )
    }
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Posted to `/events` (or imported).
    Api,
    /// Recorded from a dashboard query (SPEC §4.4).
    Passive,
    /// Posted to the Grafana-shaped `/annotations`.
    AnnotationApi,
    /// Imported from Grafana.
    Grafana,
}

impl Source {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Passive => "passive",
            Source::AnnotationApi => "annotation_api",
            Source::Grafana => "grafana",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Source> {
        [
            Source::Api,
            Source::Passive,
            Source::AnnotationApi,
            Source::Grafana,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The result recorded by an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeResult {
    /// The decision had the expected effect.
    Confirmed,
    /// It did not.
    NotConfirmed,
    /// The data could not tell.
    Inconclusive,
}

impl OutcomeResult {
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<OutcomeResult> {
        match s {
            "confirmed" => Some(OutcomeResult::Confirmed),
            "not_confirmed" => Some(OutcomeResult::NotConfirmed),
            "inconclusive" => Some(OutcomeResult::Inconclusive),
            _ => None,
        }
    }
}

/// One piece of recorded evidence (SPEC §3.1). `data` keeps the kind's fields as JSON,
/// already validated and with its times normalised to epoch ms; the typed accessors below
/// read the fields the engine needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique in the org.
    pub id: String,
    /// What the event records.
    pub kind: EventKind,
    /// When it happened.
    pub time: EpochMs,
    /// When it ended, for a region.
    pub time_end: Option<EpochMs>,
    /// The team it belongs to (ignored for views, which count by dashboard).
    pub team: Option<String>,
    /// The dashboard it was recorded on.
    pub dashboard_uid: Option<String>,
    /// The panel it was recorded on.
    pub panel_id: Option<i64>,
    /// The login that recorded it.
    pub user: String,
    /// Free text.
    pub text: String,
    /// Free tags.
    pub tags: Vec<String>,
    /// The kind's fields (see SPEC §3.1).
    pub data: Map<String, Value>,
    /// Where it came from.
    pub source: Source,
    /// When it was stored.
    pub created_at: EpochMs,
    /// When it was last edited.
    pub updated_at: EpochMs,
}

impl Event {
    /// For an outcome: the decision it follows up.
    pub fn decision_id(&self) -> Option<&str> {
        EventRef::Whole(self).decision_id()
    }

    /// For a decision: its explicit follow-up time, if one was given.
    pub fn follow_up_at(&self) -> Option<EpochMs> {
        EventRef::Whole(self).follow_up_at()
    }

    /// For an outcome: its result.
    pub fn outcome_result(&self) -> Option<OutcomeResult> {
        self.data
            .get("result")
            .and_then(Value::as_str)
            .and_then(OutcomeResult::parse)
    }
}

/// An evidence event as a team's kept evidence holds it (issue 15, `app::kept`): smaller
/// than an [`Event`] (a read's event is ~0.9 KiB, most of it the B-tree node of its `data`,
/// of which a kept event holds the few values a rule reads, as pairs), read by the engine
/// as it is through [`EventRef`].
/// Names repeat across a team's events and are shared.
#[derive(Debug, Clone)]
pub struct KeptEvent {
    pub(crate) id: Box<str>,
    pub(crate) kind: EventKind,
    pub(crate) time: EpochMs,
    pub(crate) team: Option<std::sync::Arc<str>>,
    pub(crate) dashboard: Option<std::sync::Arc<str>>,
    pub(crate) user: std::sync::Arc<str>,
    /// What a rule reads beyond the above, for decisions, outcomes and reviews only.
    pub(crate) more: Option<Box<KeptMore>>,
}

/// Names (teams, dashboards, users) shared by the kept events of a read or of a team: each
/// distinct name is allocated once.
#[derive(Debug, Clone, Default)]
pub struct SharedNames {
    known: std::collections::HashSet<std::sync::Arc<str>>,
    /// The last few names shared, looked at before the set: a read's rows come by team, so
    /// most rows repeat the team, dashboard and user of the row before (hashing each name
    /// of every row was 5 % of a cold all-team `maturity`).
    recent: std::collections::VecDeque<std::sync::Arc<str>>,
}

impl SharedNames {
    /// How many recent names are looked at before the set.
    const RECENT: usize = 4;

    /// The shared copy of `name`.
    pub fn share(&mut self, name: &str) -> std::sync::Arc<str> {
        if let Some(recent) = self.recent.iter().find(|r| ***r == *name) {
            return recent.clone();
        }
        let shared = match self.known.get(name) {
            Some(known) => known.clone(),
            None => {
                let made: std::sync::Arc<str> = std::sync::Arc::from(name);
                self.known.insert(made.clone());
                made
            }
        };
        if self.recent.len() == Self::RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(shared.clone());
        shared
    }
}

/// An evidence event's fields, borrowed (see [`KeptEvent::of_fields`]).
#[derive(Debug, Clone, Copy)]
pub struct EvidenceFields<'a> {
    /// As [`Event::id`].
    pub id: &'a str,
    /// As [`Event::kind`].
    pub kind: EventKind,
    /// As [`Event::time`].
    pub time: EpochMs,
    /// As [`Event::team`].
    pub team: Option<&'a str>,
    /// As [`Event::dashboard_uid`].
    pub dashboard_uid: Option<&'a str>,
    /// As [`Event::user`].
    pub user: &'a str,
    /// As [`Event::text`].
    pub text: &'a str,
}

impl KeptEvent {
    /// The `data` keys a rule of the engine reads from an outcome.
    pub const OUTCOME_KEYS: [&'static str; 2] = ["decisionId", "result"];

    /// The `data` keys a rule of the engine reads from a decision (the others, an owner or
    /// an expected effect, are read from the stored decision by the agenda and the
    /// suggestion loop, never from kept evidence). Kept as pairs, not the map: a map's
    /// first B-tree node is ~600 bytes whatever it holds, most of a kept decision.
    pub const DECISION_KEYS: [&'static str; 2] = ["followUpAt", "suggestedOutcome"];

    /// Keeps an evidence event (see [`Event::as_evidence`]): what no rule reads is dropped.
    pub fn of_event(e: &Event, names: &mut SharedNames) -> Self {
        let fields = EvidenceFields {
            id: &e.id,
            kind: e.kind,
            time: e.time,
            team: e.team.as_deref(),
            dashboard_uid: e.dashboard_uid.as_deref(),
            user: &e.user,
            text: &e.text,
        };
        Self::of_fields(fields, |key| e.data.get(key).cloned(), names)
    }

    /// Keeps an evidence event given by its fields, `take` giving the value of a `data` key
    /// a rule reads of its kind (asked once for each): an evidence read makes kept events
    /// straight from its rows, no [`Event`] between (issue 15).
    pub fn of_fields(
        fields: EvidenceFields<'_>,
        mut take: impl FnMut(&'static str) -> Option<Value>,
        names: &mut SharedNames,
    ) -> Self {
        let mut pairs = |wanted: &[&'static str]| -> Vec<(&'static str, Value)> {
            wanted.iter().filter_map(|k| Some((*k, take(k)?))).collect()
        };
        let keys = |kept: Vec<(&'static str, Value)>| {
            (!kept.is_empty()).then(|| Box::new(KeptMore::Keys(kept)))
        };
        let more = match fields.kind {
            EventKind::Decision => {
                let keys = pairs(&Self::DECISION_KEYS);
                let follow_up_at = keys
                    .iter()
                    .find(|(k, _)| *k == "followUpAt")
                    .and_then(|(_, v)| v.as_i64());
                Some(Box::new(KeptMore::Decision {
                    text: fields.text.to_string(),
                    follow_up_at,
                    keys,
                }))
            }
            EventKind::Outcome => keys(pairs(&Self::OUTCOME_KEYS)),
            EventKind::Review => keys(pairs(&[Event::REVIEW_EVIDENCE_KEY])),
            _ => None,
        };
        KeptEvent {
            id: fields.id.into(),
            kind: fields.kind,
            time: fields.time,
            team: fields.team.map(|t| names.share(t)),
            dashboard: fields.dashboard_uid.map(|d| names.share(d)),
            user: names.share(fields.user),
            more,
        }
    }
}

/// What a [`KeptEvent`] keeps of its text and `data`.
#[derive(Debug, Clone)]
pub(crate) enum KeptMore {
    /// A decision's text, its `followUpAt` read once (every evaluation of the team reads
    /// it), and the values of the keys a rule reads of its `data` that were there.
    Decision {
        text: String,
        follow_up_at: Option<EpochMs>,
        keys: Vec<(&'static str, Value)>,
    },
    /// The values of the keys a rule reads of an outcome or a review that were there.
    Keys(Vec<(&'static str, Value)>),
}

/// An event as the engine reads it (issue 15): a whole [`Event`] or a [`KeptEvent`],
/// borrowed, two words wide. Computing a team again from its kept evidence spent more than
/// half of its time making `Event`s of the kept events (copies of ids, names and decisions'
/// `data`); a borrowed copy of every field instead (~120 bytes an event) spent as much on
/// the page faults of its larger lists.
#[derive(Debug, Clone, Copy)]
pub enum EventRef<'a> {
    /// An event as stored.
    Whole(&'a Event),
    /// An event as kept.
    Kept(&'a KeptEvent),
}

/// An event's `data` as the engine reads it: a whole map, or the few pairs a kept event
/// holds on to.
#[derive(Debug, Clone, Copy)]
pub enum DataRef<'a> {
    /// A whole `data` map.
    Map(&'a Map<String, Value>),
    /// Some keys of it, with their values.
    Pairs(&'a [(&'static str, Value)]),
}

impl<'a> DataRef<'a> {
    /// The value of `key`, if the data has it.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        match *self {
            DataRef::Map(map) => map.get(key),
            DataRef::Pairs(pairs) => pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
        }
    }
}

impl<'a> From<&'a Event> for EventRef<'a> {
    fn from(e: &'a Event) -> Self {
        EventRef::Whole(e)
    }
}

impl<'a> From<&'a KeptEvent> for EventRef<'a> {
    fn from(e: &'a KeptEvent) -> Self {
        EventRef::Kept(e)
    }
}

impl<'a> From<&EventRef<'a>> for EventRef<'a> {
    fn from(e: &EventRef<'a>) -> Self {
        *e
    }
}

impl<'a> EventRef<'a> {
    /// Unique in the org.
    pub fn id(self) -> &'a str {
        match self {
            EventRef::Whole(e) => &e.id,
            EventRef::Kept(e) => &e.id,
        }
    }

    /// What the event records.
    pub fn kind(self) -> EventKind {
        match self {
            EventRef::Whole(e) => e.kind,
            EventRef::Kept(e) => e.kind,
        }
    }

    /// When it happened.
    pub fn time(self) -> EpochMs {
        match self {
            EventRef::Whole(e) => e.time,
            EventRef::Kept(e) => e.time,
        }
    }

    /// The team it belongs to.
    pub fn team(self) -> Option<&'a str> {
        match self {
            EventRef::Whole(e) => e.team.as_deref(),
            EventRef::Kept(e) => e.team.as_deref(),
        }
    }

    /// The dashboard it was recorded on.
    pub fn dashboard_uid(self) -> Option<&'a str> {
        match self {
            EventRef::Whole(e) => e.dashboard_uid.as_deref(),
            EventRef::Kept(e) => e.dashboard.as_deref(),
        }
    }

    /// The login that recorded it.
    pub fn user(self) -> &'a str {
        match self {
            EventRef::Whole(e) => &e.user,
            EventRef::Kept(e) => &e.user,
        }
    }

    /// Free text (kept for decisions only).
    pub fn text(self) -> &'a str {
        match self {
            EventRef::Whole(e) => &e.text,
            EventRef::Kept(e) => match e.more.as_deref() {
                Some(KeptMore::Decision { text, .. }) => text,
                _ => "",
            },
        }
    }

    /// The kind's fields a rule reads.
    pub fn data(self) -> DataRef<'a> {
        match self {
            EventRef::Whole(e) => DataRef::Map(&e.data),
            EventRef::Kept(e) => match e.more.as_deref() {
                None => DataRef::Pairs(&[]),
                Some(KeptMore::Decision { keys, .. }) => DataRef::Pairs(keys),
                Some(KeptMore::Keys(keys)) => DataRef::Pairs(keys),
            },
        }
    }

    /// For an outcome: the decision it follows up.
    pub fn decision_id(self) -> Option<&'a str> {
        self.data().get("decisionId").and_then(Value::as_str)
    }

    /// For a decision: its explicit follow-up time, if one was given.
    pub fn follow_up_at(self) -> Option<EpochMs> {
        if let EventRef::Kept(e) = self {
            if let Some(KeptMore::Decision { follow_up_at, .. }) = e.more.as_deref() {
                return *follow_up_at;
            }
        }
        self.data().get("followUpAt").and_then(Value::as_i64)
    }
}

/// Which way a target's metric should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is better.
    Increase,
    /// Lower is better.
    Decrease,
}

impl Direction {
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "increase" => Some(Direction::Increase),
            "decrease" => Some(Direction::Decrease),
            _ => None,
        }
    }
}

/// The finish-line verdict of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The target was reached.
    Met,
    /// It was not.
    Missed,
}

impl Verdict {
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "met" => Some(Verdict::Met),
            "missed" => Some(Verdict::Missed),
            _ => None,
        }
    }
}

/// One measured value of a target's metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Actual {
    /// When it was measured.
    pub time: EpochMs,
    /// The value (always finite).
    pub value: f64,
}

/// The finish-line check of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Given, or derived from the last actual when the request omitted it.
    pub verdict: Verdict,
    /// The value at the finish line, if given.
    pub actual: Option<f64>,
    /// What the team learnt (may be empty; stored as given).
    pub learnings: String,
    /// When the check was made.
    pub verified_at: EpochMs,
    /// Who made it.
    pub verified_by: String,
}

/// A project with a target (SPEC §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Unique in the org.
    pub id: String,
    /// The team that owns it.
    pub team: String,
    /// Display name.
    pub name: String,
    /// Unit of the metric.
    pub unit: Option<String>,
    /// Which way is better.
    pub direction: Direction,
    /// The value at the start.
    pub baseline: Option<f64>,
    /// The value to reach.
    pub target: Option<f64>,
    /// When the project started.
    pub start_at: EpochMs,
    /// When the target should be reached.
    pub deadline: Option<EpochMs>,
    /// Free JSON: what measures it.
    pub query: Option<Value>,
    /// Measured values, in time order.
    pub actuals: Vec<Actual>,
    /// The finish-line check, once made.
    pub verification: Option<Verification>,
    /// When it was stored (never used by an evaluation).
    pub created_at: EpochMs,
}

impl Target {
    /// A project is *defined* when baseline, target and deadline are all set.
    pub fn is_defined(&self) -> bool {
        self.baseline.is_some() && self.target.is_some() && self.deadline.is_some()
    }
}

/// Derives a verdict from the last actual against the target: met when the last actual is
/// at or beyond the target in the target's direction; missed otherwise (or with no actual).
pub fn derive_verdict(
    direction: Direction,
    target: Option<f64>,
    last_actual: Option<f64>,
) -> Verdict {
    match (target, last_actual) {
        (Some(t), Some(a)) => {
            let reached = match direction {
                Direction::Increase => a >= t,
                Direction::Decrease => a <= t,
            };
            if reached {
                Verdict::Met
            } else {
                Verdict::Missed
            }
        }
        _ => Verdict::Missed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn team_ids_follow_the_slug_pattern() {
        assert!(validate_team_id("id", "payments").is_ok());
        assert!(validate_team_id("id", "9-lives").is_ok());
        assert!(validate_team_id("id", &"a".repeat(63)).is_ok());
        assert!(validate_team_id("id", &"a".repeat(64)).is_err());
        assert!(validate_team_id("id", "-payments").is_err());
        assert!(validate_team_id("id", "Payments").is_err());
        assert!(validate_team_id("id", "").is_err());
        assert!(validate_team_id("id", "a b").is_err());
    }

    #[test]
    fn object_ids_allow_dots_colons_and_underscores() {
        assert!(validate_object_id("id", "e1:a_b.c-d").is_ok());
        assert!(validate_object_id("id", &"x".repeat(64)).is_ok());
        assert!(validate_object_id("id", &"x".repeat(65)).is_err());
        assert!(validate_object_id("id", "a/b").is_err());
        assert!(validate_object_id("id", "").is_err());
    }

    #[test]
    fn times_parse_from_epoch_ms_and_rfc3339_to_the_millisecond() {
        assert_eq!(
            parse_time("t", &json!(1_700_000_000_123_i64)),
            Ok(1_700_000_000_123)
        );
        assert_eq!(
            parse_time("t", &json!("2026-06-01T00:00:00Z")),
            Ok(1_780_272_000_000)
        );
        assert_eq!(
            parse_time("t", &json!("2026-06-01T00:00:00.1239Z")),
            Ok(1_780_272_000_123)
        );
        assert_eq!(
            parse_time("t", &json!("2026-06-01T02:00:00+02:00")),
            Ok(1_780_272_000_000)
        );
        assert_eq!(
            parse_time("t", &json!("1780272000000")),
            Ok(1_780_272_000_000)
        );
        let err = parse_time("time", &json!("yesterday")).unwrap_err();
        assert_eq!(err.field, "time");
        assert!(parse_time("t", &json!(true)).is_err());
        assert!(parse_time("t", &json!(1e300)).is_err());
    }

    #[test]
    fn times_before_1970_round_down_to_the_millisecond() {
        assert_eq!(parse_time("t", &json!("1969-12-31T23:59:59.9995Z")), Ok(-1));
    }

    #[test]
    fn format_time_round_trips() {
        let ms = 1_780_272_000_123;
        assert_eq!(parse_time_str("t", &format_time(ms)), Ok(ms));
    }

    #[test]
    fn kinds_parse_both_spellings_of_metric_change() {
        assert_eq!(
            EventKind::parse("metric_change"),
            Some(EventKind::MetricChange)
        );
        assert_eq!(
            EventKind::parse("metric-change"),
            Some(EventKind::MetricChange)
        );
        assert_eq!(EventKind::parse("vote"), None);
    }

    #[test]
    fn derived_verdict_follows_the_direction() {
        use Direction::*;
        assert_eq!(derive_verdict(Decrease, Some(8.0), Some(8.0)), Verdict::Met);
        assert_eq!(
            derive_verdict(Decrease, Some(8.0), Some(8.1)),
            Verdict::Missed
        );
        assert_eq!(derive_verdict(Increase, Some(8.0), Some(8.1)), Verdict::Met);
        assert_eq!(derive_verdict(Increase, Some(8.0), None), Verdict::Missed);
    }
}

/// Filters of `GET /events` and the `events` query.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only these kinds (empty = all).
    pub kinds: Vec<EventKind>,
    /// Only events of these teams (empty = all).
    pub teams: Vec<String>,
    /// Only events on this dashboard.
    pub dashboard_uid: Option<String>,
    /// Inclusive lower bound on `time`.
    pub from: Option<EpochMs>,
    /// Inclusive upper bound on `time`.
    pub to: Option<EpochMs>,
    /// Events carrying every one of these tags.
    pub tags: Vec<String>,
    /// Page size.
    pub limit: usize,
    /// Page start.
    pub offset: u64,
    /// Leave each event's `data` empty: for answers that never show it (the `events` frame),
    /// so the store neither reads nor parses it (issue 15).
    pub without_data: bool,
}

/// A passive view waiting to be written (SPEC §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PendingView {
    /// The org it was seen in.
    pub org: OrgId,
    /// The viewer's login.
    pub user: String,
    /// The dashboard looked at.
    pub dashboard_uid: String,
    /// The panel that asked, if known.
    pub panel_id: Option<i64>,
    /// When the query ran.
    pub time: EpochMs,
    /// `floor(time / viewSessionMinutes)`: at most one view per (org, user, dashboard, bucket).
    pub session_bucket: i64,
}

impl PendingView {
    /// The view as the event a store writes for it, with `id`, written at `now`.
    pub fn to_event(&self, id: String, now: EpochMs) -> Event {
        Event {
            dashboard_uid: Some(self.dashboard_uid.clone()),
            panel_id: self.panel_id,
            user: self.user.clone(),
            created_at: now,
            updated_at: now,
            ..Event::bare(id, EventKind::View, self.time, Source::Passive)
        }
    }
}

/// Everything the engine needs to evaluate teams over `[from, to)`, read at once, each
/// event an `E`: whole ([`Evidence`]) or as kept evidence holds it ([`KeptRead`]).
#[derive(Debug, Clone)]
pub struct EvidenceOf<E> {
    /// The teams asked for.
    pub teams: Vec<Team>,
    /// A superset of the events that can count for them (the engine applies the rules),
    /// each once, in no particular order,
    /// carrying only what a rule reads (issue 15): id, kind, time, team, dashboard, user,
    /// `data` of decisions and outcomes, a review's `dashboards`, `text` of decisions. Tags,
    /// panel, end time, other texts and timestamps are left empty: never show these events
    /// as they are.
    pub events: Vec<E>,
    /// Their targets, with actuals and verification.
    pub targets: Vec<Target>,
    /// The teams' evidence versions as of the same read: what the events above are exactly
    /// the evidence of (issue 15).
    pub versions: EvidenceVersions,
}

/// A read's evidence, each event whole.
pub type Evidence = EvidenceOf<Event>;

/// A read's evidence, each event kept ([`KeptEvent::of_event`], names shared by the read;
/// see [`Store::kept_evidence`]).
///
/// [`Store::kept_evidence`]: crate::store::Store::kept_evidence
pub type KeptRead = EvidenceOf<KeptEvent>;

impl Event {
    /// The only key of a review's `data` a rule reads (the dashboards it covered, issue 10):
    /// the rest (attendees, notes) is not part of its evidence.
    pub const REVIEW_EVIDENCE_KEY: &'static str = "dashboards";

    /// The event as an evidence read returns it (see [`Evidence::events`]): what no rule
    /// reads left empty, so that an event a write hands to a kept evidence (issue 15) is the
    /// one a fresh read would give.
    pub fn as_evidence(&self) -> Event {
        let text = if self.kind == EventKind::Decision {
            self.text.clone()
        } else {
            String::new()
        };
        let data = match self.kind {
            EventKind::Decision | EventKind::Outcome => self.data.clone(),
            EventKind::Review => self
                .data
                .get(Event::REVIEW_EVIDENCE_KEY)
                .map(|v| Map::from_iter([(Event::REVIEW_EVIDENCE_KEY.to_string(), v.clone())]))
                .unwrap_or_default(),
            _ => Map::new(),
        };
        Event {
            team: self.team.clone(),
            dashboard_uid: self.dashboard_uid.clone(),
            user: self.user.clone(),
            text,
            data,
            ..Event::bare(self.id.clone(), self.kind, self.time, self.source)
        }
    }

    /// An event with only its id, kind, time and source: every other field empty, as an
    /// evidence read leaves what no rule reads.
    pub fn bare(id: String, kind: EventKind, time: EpochMs, source: Source) -> Event {
        Event {
            id,
            kind,
            time,
            time_end: None,
            team: None,
            dashboard_uid: None,
            panel_id: None,
            user: String::new(),
            text: String::new(),
            tags: Vec::new(),
            data: Map::new(),
            source,
            created_at: 0,
            updated_at: 0,
        }
    }
}

/// How one write moved the evidence versions (issue 15): each scope the write can have
/// raised, with its version just before and just after the write, both read inside the
/// write's transaction while no other writer could raise them. A kept evidence at exactly
/// the `before` versions plus the written events is the evidence at the `after` versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionStep {
    /// `(scope, before, after)`, by scope.
    pub scopes: Vec<(String, i64, i64)>,
}

impl VersionStep {
    /// The step of `scope`, when the write could raise it.
    pub fn of_scope(&self, scope: &str) -> Option<(i64, i64)> {
        self.scopes
            .binary_search_by(|(s, _, _)| s.as_str().cmp(scope))
            .ok()
            .map(|i| (self.scopes[i].1, self.scopes[i].2))
    }

    /// The scopes a write of `events` can raise, by scope: each event's team and dashboard,
    /// and the teams of the stored decisions the events name (`decision_teams`, looked up by
    /// the store), as the stores' version triggers raise them.
    pub fn candidate_scopes<'a>(
        events: impl IntoIterator<Item = &'a Event>,
        decision_teams: &[String],
    ) -> Vec<String> {
        let mut scopes: Vec<String> = events
            .into_iter()
            .flat_map(|e| {
                let team = e.team.as_deref().map(|t| format!("team:{t}"));
                let dashboard = e.dashboard_uid.as_deref().map(|d| format!("dashboard:{d}"));
                team.into_iter().chain(dashboard)
            })
            .chain(decision_teams.iter().map(|t| format!("team:{t}")))
            .collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// The step from the versions read before and after the write, for `scopes`.
    pub fn between(scopes: &[String], before: &EvidenceVersions, after: &EvidenceVersions) -> Self {
        let mut out: Vec<(String, i64, i64)> = scopes
            .iter()
            .map(|s| (s.clone(), before.of_scope(s), after.of_scope(s)))
            .collect();
        out.sort();
        out.dedup();
        Self { scopes: out }
    }
}

/// A write to one target's actuals, with how it moved the evidence versions (issue 15): the
/// target as the write left it, read in the write's transaction, so that kept evidence at the
/// step's `before` versions with this target in place of its old one is the evidence at the
/// `after` versions.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetWritten {
    /// How the write moved the version of the target's team.
    pub step: VersionStep,
    /// The target with its actuals and verification, as stored after the write.
    pub target: Target,
}

/// The passive views one write stored in one org, with how they moved its evidence versions
/// (issue 15): a view in a session bucket already stored is not among them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewsWritten {
    /// The org.
    pub org: OrgId,
    /// How the views moved the versions of their dashboards.
    pub step: VersionStep,
    /// The views stored as events, in the order given.
    pub events: Vec<Event>,
}

/// The store's evidence versions of an org (issue 15): a counter per `team:<id>` and per
/// `dashboard:<uid>`, raised by every write that can change what a team's evaluation reads.
/// Kept by the store (its triggers), so a write on any replica is seen by every cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceVersions {
    scopes: std::collections::HashMap<String, i64>,
}

impl EvidenceVersions {
    /// From `(scope, version)` pairs as the store keeps them (a scope at 0 reads as one
    /// never written, which is what it is).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, i64)>) -> Self {
        Self {
            scopes: pairs.into_iter().filter(|(_, v)| *v != 0).collect(),
        }
    }

    /// These versions taken through `step`, when they are the versions the step started
    /// from on every scope it names (else `None`: another write came in between).
    pub fn advanced(&self, step: &VersionStep) -> Option<Self> {
        let mut next = self.clone();
        for (scope, before, after) in &step.scopes {
            if self.of_scope(scope) != *before {
                return None;
            }
            if *after == 0 {
                next.scopes.remove(scope);
            } else {
                next.scopes.insert(scope.clone(), *after);
            }
        }
        Some(next)
    }

    /// The version of one scope (0 when nothing was ever written to it).
    pub fn of_scope(&self, scope: &str) -> i64 {
        self.scopes.get(scope).copied().unwrap_or(0)
    }

    /// What a team's evaluation depends on: its own counter, then each of its dashboards'.
    /// Equal fingerprints mean the team's evidence did not change in between.
    pub fn fingerprint(&self, team: &Team) -> Vec<i64> {
        Self::scopes_of(team)
            .iter()
            .map(|s| self.of_scope(s))
            .collect()
    }

    /// The scopes of a team's [`fingerprint`](Self::fingerprint), in its order.
    pub fn scopes_of(team: &Team) -> Vec<String> {
        std::iter::once(format!("team:{}", team.id))
            .chain(team.dashboards.iter().map(|d| format!("dashboard:{d}")))
            .collect()
    }
}
