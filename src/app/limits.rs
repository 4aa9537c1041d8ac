//! The limits of what one request may carry (SPEC §9, issue 11): every list a user can send
//! has a maximum, and a longer one is a 400 naming the field, so that no request can make the
//! store read or the engine degrade for the whole org. Every read of the store works for
//! any list these limits let through (the store never builds one SQL variable per element).
//!
//! | what | limit | where it applies |
//! |---|---|---|
//! | items of a list: team `dashboards` and `members`, event `tags`, review `data.attendees` and `data.dashboards`; the `kind`, `team`, `tags` filters of `GET /events`, `/annotations`, `/targets`, `/maturity`; the `team`, `kinds`, `tags` fields of a query | [`MAX_LIST_ITEMS`] | API and import |
//! | events in one `POST /events` | [`super::MAX_BATCH`] | API |
//! | queries in one QueryData request | 1,000 (`plugin::server::MAX_QUERIES`; past it, each gets a 400 on its refId) | QueryData |
//! | events in one page of `GET /events` (`limit`) | [`super::MAX_EVENT_PAGE`] | API |
//! | `offset` of `GET /events` | [`MAX_OFFSET`] (larger answers 400) | API |
//! | actuals in one `POST /targets` or `POST /targets/{id}/actuals` | [`MAX_ACTUALS`] | API (an export's target carries all its actuals and imports whole) |
//! | characters of a dashboard uid (events, teams, passive views, filters) | [`MAX_UID_CHARS`] | API, import, passive views (a longer one is not recorded) |
//! | nesting of free JSON (`data` of an event, `query` of a target) | [`MAX_JSON_DEPTH`] levels | API and import |
//! | a request body | 1 MiB (`POST /import`: 64 MiB) | API |

use serde_json::Value;

use crate::model::Invalid;

/// The most items any list of a request may hold (SPEC §9: at least 1,000).
pub const MAX_LIST_ITEMS: usize = 1000;
/// The most actuals one request may record (an hour's actuals for more than a year).
pub const MAX_ACTUALS: usize = 10_000;
/// The longest dashboard uid taken (Grafana's own are at most 40).
pub const MAX_UID_CHARS: usize = 256;
/// The deepest nesting of free JSON (`data`, `query`): arrays and objects inside each other.
/// An export line wraps the value in two more levels, well inside what any JSON reader takes.
pub const MAX_JSON_DEPTH: usize = 32;
/// The largest `offset` of a page (a larger one would wrap inside the store).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// A list of `len` items in `field`, or a 400 naming it.
pub fn check_list(field: &str, len: usize, max: usize) -> Result<(), Invalid> {
    if len > max {
        return Err(Invalid::new(
            field,
            format!("holds {len} items; at most {max} are taken"),
        ));
    }
    Ok(())
}

/// A dashboard uid of a sane length, or a 400 naming `field`.
pub fn check_uid(field: &str, uid: &str) -> Result<(), Invalid> {
    let n = uid.chars().count();
    if n > MAX_UID_CHARS {
        return Err(Invalid::new(
            field,
            format!("a dashboard uid of {n} characters; at most {MAX_UID_CHARS} are taken"),
        ));
    }
    Ok(())
}

/// Free JSON nested at most [`MAX_JSON_DEPTH`] levels, or a 400 naming `field`.
pub fn check_depth(field: &str, v: &Value) -> Result<(), Invalid> {
    /// Whether `v`, a container at nesting `level`, or one inside it is too deep.
    fn depth_over(v: &Value, level: usize) -> bool {
        match v {
            Value::Array(_) | Value::Object(_) if level > MAX_JSON_DEPTH => true,
            Value::Array(items) => items.iter().any(|i| depth_over(i, level + 1)),
            Value::Object(o) => o.values().any(|i| depth_over(i, level + 1)),
            _ => false,
        }
    }
    if depth_over(v, 1) {
        return Err(Invalid::new(
            field,
            format!("is nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        (0..levels).fold(json!(1), |inner, _| json!([inner]))
    }

    #[test]
    fn lists_uids_and_nesting_have_limits_that_name_the_field() {
        assert!(check_list("tags", MAX_LIST_ITEMS, MAX_LIST_ITEMS).is_ok());
        let e = check_list("tags", MAX_LIST_ITEMS + 1, MAX_LIST_ITEMS).expect_err("long");
        assert_eq!(e.field, "tags");
        assert!(check_uid("dashboardUid", &"u".repeat(MAX_UID_CHARS)).is_ok());
        assert!(check_uid("dashboardUid", &"u".repeat(MAX_UID_CHARS + 1)).is_err());
        assert!(check_depth("data", &nested(MAX_JSON_DEPTH)).is_ok());
        assert_eq!(
            check_depth("data.query", &nested(MAX_JSON_DEPTH + 1))
                .expect_err("deep")
                .field,
            "data.query"
        );
        assert!(check_depth("data", &json!("flat")).is_ok());
    }
}
