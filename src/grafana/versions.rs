//! `GET /api/dashboards/uid/{uid}/versions`: a dashboard's saved versions, newest first, in
//! either of Grafana's answers — the older JSON list (paged with `start`) and the newer
//! `{"versions": [...], "continueToken": "..."}` (paged with `continueToken`).

use reqwest::Method;
use serde_json::Value;

use super::{parse_json, GrafanaClient, GrafanaError};
use crate::model::{parse_time, EpochMs};

/// Versions asked per page.
const PAGE: usize = 100;

/// One saved version of a dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardVersion {
    /// The version number (1 is the dashboard's creation).
    pub version: i64,
    /// When it was saved.
    pub created: EpochMs,
    /// Who saved it (a login; empty when Grafana gives a user id only).
    pub created_by: String,
    /// The message given when saving.
    pub message: String,
}

/// Reads one version of either answer.
pub fn parse_version(v: &Value) -> Result<DashboardVersion, String> {
    let o = v.as_object().ok_or("a version is not a JSON object")?;
    let version = o
        .get("version")
        .and_then(Value::as_i64)
        .ok_or("a version has no version number")?;
    let created = o
        .get("created")
        .ok_or_else(|| format!("version {version} has no created time"))
        .and_then(|c| parse_time("created", c).map_err(|e| e.to_string()))?;
    Ok(DashboardVersion {
        version,
        created,
        created_by: o
            .get("createdBy")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        message: o
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

/// The versions and the token for the next page, of either answer.
pub fn parse_page(answer: &Value) -> Result<(Vec<DashboardVersion>, Option<String>), String> {
    let (items, token) = match answer {
        Value::Array(items) => (items.as_slice(), None),
        Value::Object(o) => (
            o.get("versions")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            o.get("continueToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(String::from),
        ),
        _ => return Err("expected a list of versions or {versions, continueToken}".into()),
    };
    let versions = items.iter().map(parse_version).collect::<Result<_, _>>()?;
    Ok((versions, token))
}

impl GrafanaClient {
    /// The versions of dashboard `uid` newer than `after` (a version number; 0 for all),
    /// newest first.
    pub async fn dashboard_versions(
        &self,
        uid: &str,
        after: i64,
    ) -> Result<Vec<DashboardVersion>, GrafanaError> {
        let path = format!("api/dashboards/uid/{uid}/versions");
        let mut out: Vec<DashboardVersion> = Vec::new();
        let mut start = 0usize;
        let mut token: Option<String> = None;
        for _ in 0..self.config.max_pages.max(1) {
            let mut query = vec![("limit", PAGE.to_string())];
            match &token {
                Some(t) => query.push(("continueToken", t.clone())),
                None if start > 0 => query.push(("start", start.to_string())),
                None => {}
            }
            let (_, bytes) = self
                .send(
                    Method::GET,
                    &path,
                    &query,
                    None,
                    "read dashboard versions (it needs edit rights on the dashboard)",
                )
                .await?;
            let answer = parse_json(&path, &bytes)?;
            let (page, next) = parse_page(&answer).map_err(|detail| GrafanaError::Unexpected {
                path: path.clone(),
                detail,
            })?;
            let len = page.len();
            let reached_old = page.iter().any(|v| v.version <= after);
            out.extend(page.into_iter().filter(|v| v.version > after));
            if reached_old || len == 0 {
                break;
            }
            match (answer.is_array(), next) {
                (false, Some(t)) => token = Some(t),
                (false, None) => break,
                (true, _) if len < PAGE => break,
                (true, _) => start += len,
            }
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.version));
        out.dedup_by_key(|v| v.version);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_answers_read_the_same() {
        let old = json!([
            {"id": 2, "dashboardId": 1, "parentVersion": 1, "restoredFrom": 0, "version": 2,
             "created": "2026-05-01T10:00:00Z", "createdBy": "admin", "message": "p95 panel"},
            {"id": 1, "dashboardId": 1, "parentVersion": 0, "restoredFrom": 0, "version": 1,
             "created": "2026-04-01T10:00:00Z", "createdBy": "admin", "message": ""}
        ]);
        let new = json!({"continueToken": "abc", "versions": old.clone()});
        let (a, t) = parse_page(&old).expect("old");
        let (b, u) = parse_page(&new).expect("new");
        assert_eq!(a, b);
        assert_eq!((t, u.as_deref()), (None, Some("abc")));
        assert_eq!(a[0].message, "p95 panel");
        assert_eq!(a[0].created, 1_777_629_600_000);
        assert!(parse_page(&json!("x")).is_err());
        // A user id instead of a login reads as no login.
        let v = parse_version(
            &json!({"version": 3, "created": "2026-05-01T10:00:00Z", "createdBy": 7}),
        )
        .expect("version");
        assert_eq!(v.created_by, "");
    }
}
