//! Frame helpers shared by the query types of [`super::queries`] (each type builds its own
//! frame in its own file): times, labelled fields, and the alertable overdue table (SPEC §4.3).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use grafana_plugin_sdk::arrow2::array::{MutableUtf8Array, Utf8Array};
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
    // Each string column sized from a first pass over the rows: grown as it filled, its
    // copies were a quarter of an all-team `followUpsOverdue` under the load (issue 15).
    let column = |pick: fn(&(&'a str, &'a str, f64)) -> &'a str| {
        let (n, bytes) = rows
            .clone()
            .fold((0, 0), |(n, bytes), r| (n + 1, bytes + pick(&r).len()));
        let mut values = MutableUtf8Array::<i32>::with_capacities(n, bytes);
        values.extend_values(rows.clone().map(|r| pick(&r)));
        values
    };
    [
        text_field("team", column(|r| r.0)),
        text_field(what, column(|r| r.1)),
        rows.map(|r| r.2).into_field("days_overdue"),
    ]
    .into_frame(name)
}

/// A string column (non-null, as `into_field` makes it) from its Arrow array.
pub fn text_field(name: &str, values: MutableUtf8Array<i32>) -> Field {
    let mut field = Vec::<&str>::new().into_field(name);
    let array: Utf8Array<i32> = values.into();
    // The same Arrow type as the empty field's (`Utf8`), so this cannot fail; if it ever
    // did, the column is copied the usual way rather than lost (a clone of the array shares
    // its buffers).
    match field.set_values_array(array.clone()) {
        Ok(()) => field,
        Err(_) => array.values_iter().collect::<Vec<&str>>().into_field(name),
    }
}
