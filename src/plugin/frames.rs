//! Frame helpers shared by the query types of [`super::queries`] (each type builds its own
//! frame in its own file): times, labelled fields, and the alertable overdue table (SPEC §4.3).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use grafana_plugin_sdk::data::{Field, Frame};
use grafana_plugin_sdk::prelude::*;

use crate::model::EpochMs;

/// Epoch milliseconds as a frame time (the epoch itself when out of range).
pub fn time(ms: EpochMs) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A field with one label (`team=<id>`, `target=<name>`); never give it a config too.
pub fn labelled(field: Field, key: &str, value: &str) -> Field {
    field.with_labels(BTreeMap::from([(key.to_string(), value.to_string())]))
}

/// `followUpsOverdue` / `verificationDue`: alertable number tables of (team, what, days).
pub fn overdue<'a>(
    name: &str,
    what: &str,
    rows: impl Iterator<Item = (&'a str, &'a str, f64)> + Clone,
) -> Frame {
    [
        rows.clone().map(|r| r.0).into_field("team"),
        rows.clone().map(|r| r.1).into_field(what),
        rows.map(|r| r.2).into_field("days_overdue"),
    ]
    .into_frame(name)
}
