//! Frame helpers shared by the query types of [`super::queries`] (each type builds its own
//! frame in its own file): times, labelled fields, and the alertable overdue table (SPEC §4.3).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use grafana_plugin_sdk::arrow2::array::{MutableUtf8Array, PrimitiveArray, Utf8Array};
use grafana_plugin_sdk::data::{Field, Frame};
use grafana_plugin_sdk::prelude::*;

use crate::model::EpochMs;

/// Epoch milliseconds as a frame time (the epoch itself when out of range).
pub fn time(ms: EpochMs) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A time column from epoch milliseconds, the same as `into_field` makes from [`time`]s
/// (nanoseconds since the epoch) without a `DateTime` per row.
pub fn time_field(name: &str, ms: Vec<EpochMs>) -> Field {
    let ns: PrimitiveArray<i64> = ms.into_iter().map(nanos).collect();
    times_into(Vec::<DateTime<Utc>>::new().into_field(name), ns)
}

/// [`time_field`] of a nullable column (`into_opt_field`).
pub fn opt_time_field(name: &str, ms: Vec<Option<EpochMs>>) -> Field {
    let ns: PrimitiveArray<i64> = ms.into_iter().map(|t| t.and_then(nanos)).collect();
    times_into(Vec::<Option<DateTime<Utc>>>::new().into_opt_field(name), ns)
}

/// As the SDK stores [`time`]`(ms)`: its nanoseconds, none (a null) past the year 2262.
fn nanos(ms: EpochMs) -> Option<i64> {
    ms.checked_mul(1_000_000)
        .or_else(|| time(ms).timestamp_nanos_opt())
}

/// `field` (an empty time column) holding `ns`. The array takes the field's own Arrow type,
/// so the SDK cannot refuse it; if it ever did, the column is made the usual way rather
/// than lost.
fn times_into(mut field: Field, ns: PrimitiveArray<i64>) -> Field {
    let typed = ns.to(field.values().data_type().clone());
    match field.set_values_array(typed.clone()) {
        Ok(()) => field,
        Err(_) => {
            let name = field.name.clone();
            typed
                .iter()
                .map(|t| t.map(|ns| Utc.timestamp_nanos(*ns)))
                .into_opt_field(name)
        }
    }
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
pub fn text_field(name: &str, values: impl Into<Utf8Array<i32>>) -> Field {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Times around the ends of what a frame can hold: nanoseconds end in 2262, `DateTime`s
    /// later still.
    const EDGES: [EpochMs; 9] = [
        0,
        1_780_272_000_000,
        -86_400_000,
        9_223_372_036_854,
        9_223_372_036_855,
        -9_223_372_036_855,
        8_210_266_876_799_999,
        i64::MAX,
        i64::MIN,
    ];

    #[test]
    fn time_columns_hold_what_the_sdk_makes_of_the_same_times() {
        let made = time_field("time", EDGES.to_vec());
        let sdk = EDGES.iter().map(|&ms| time(ms)).into_field("time");
        assert_eq!(made, sdk);
        assert_eq!(
            made.values().null_count(),
            3,
            "past 2262: nulls, as the SDK's"
        );

        let optional: Vec<Option<EpochMs>> =
            EDGES.iter().map(|&ms| Some(ms)).chain([None]).collect();
        let made = opt_time_field("timeEnd", optional.clone());
        let sdk = optional
            .iter()
            .map(|t| t.map(time))
            .into_opt_field("timeEnd");
        assert_eq!(made, sdk);
        assert_eq!(made.values().len(), EDGES.len() + 1);
    }
}
