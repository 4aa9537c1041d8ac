//! The one place where errors become statuses: SPEC §3 error bodies for resources, and
//! per-query errors for QueryData.

use serde_json::json;

use crate::app::AppError;

/// An HTTP status and the SPEC §3 error body.
pub fn http_error(e: &AppError) -> (u16, serde_json::Value) {
    let (status, code, field) = match e {
        AppError::Invalid(i) => (400, "invalid_argument", Some(i.field.clone())),
        AppError::Forbidden(_) => (403, "forbidden", None),
        AppError::NotFound(_) => (404, "not_found", None),
        AppError::Conflict(_) => (409, "conflict", None),
        AppError::TooLarge(_) => (413, "too_large", None),
        AppError::Internal(_) => (500, "internal", None),
    };
    let message = match e {
        AppError::Invalid(i) => format!("{}: {}", i.field, i.message),
        other => other.to_string(),
    };
    let mut body = json!({"error": code, "message": message});
    if let Some(f) = field {
        body["field"] = json!(f);
    }
    (status, body)
}

/// The status a failed query reports (Grafana shows the message on the query's panel).
pub fn query_status(e: &AppError) -> i32 {
    i32::from(http_error(e).0)
}

/// Whether the fault is downstream (the store), not the user's request: for logs and metrics.
pub fn is_downstream(e: &AppError) -> bool {
    matches!(e, AppError::Internal(_))
}
