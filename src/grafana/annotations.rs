//! `GET /api/annotations`: the annotations of the token's organisation in a time window,
//! paged by time (Grafana answers newest first, at most `limit` at a time).

use std::collections::HashSet;

use reqwest::Method;
use serde_json::Value;

use super::{parse_json, GrafanaClient, GrafanaError};
use crate::model::EpochMs;

/// The API path.
pub const PATH: &str = "api/annotations";

/// The largest page the listing grows to when more than a page of annotations share one time.
const MAX_PAGE: usize = 20_000;

/// One annotation as Grafana's `/api/annotations` answers it (the fields the product reads).
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Grafana's annotation id.
    pub id: i64,
    /// The dashboard it was made on (`dashboardUID`), if any.
    pub dashboard_uid: Option<String>,
    /// The panel it was made on, if any.
    pub panel_id: Option<i64>,
    /// When it starts.
    pub time: EpochMs,
    /// When it ends (equal to `time` for a point).
    pub time_end: Option<EpochMs>,
    /// Its text.
    pub text: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Who made it (`login`; empty for one made through the API by a service account).
    pub login: String,
    /// When Grafana last changed it (`updated`).
    pub updated: Option<EpochMs>,
}

/// The annotations of a window, and whether every page was read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Listing {
    /// Each annotation once, newest first.
    pub annotations: Vec<Annotation>,
    /// False when the listing stopped at `max_pages`: absence from it then proves nothing.
    pub complete: bool,
    /// Requests made.
    pub pages: usize,
}

fn opt_i64(o: &serde_json::Map<String, Value>, key: &str) -> Option<i64> {
    o.get(key).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    })
}

fn opt_str(o: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    o.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Reads one item of the answer.
pub fn parse_annotation(v: &Value) -> Result<Annotation, String> {
    let o = v.as_object().ok_or("an annotation is not a JSON object")?;
    let id = opt_i64(o, "id").ok_or("an annotation has no numeric id")?;
    let time = opt_i64(o, "time").ok_or_else(|| format!("annotation {id} has no time"))?;
    let tags = match o.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        Some(_) => return Err(format!("annotation {id}: tags is not a list")),
    };
    Ok(Annotation {
        id,
        dashboard_uid: opt_str(o, "dashboardUID").or_else(|| opt_str(o, "dashboardUid")),
        panel_id: opt_i64(o, "panelId").filter(|p| *p != 0),
        time,
        time_end: opt_i64(o, "timeEnd").filter(|e| *e > time),
        text: o
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        tags,
        login: opt_str(o, "login").unwrap_or_default(),
        updated: opt_i64(o, "updated"),
    })
}

impl GrafanaClient {
    /// Every annotation (not alert) in `[from, to]` carrying at least one of `tags`, read
    /// page by page: each page asks up to `to` = the oldest time of the page before, and
    /// annotations seen twice at a page boundary are kept once.
    pub async fn annotations(
        &self,
        from: EpochMs,
        to: EpochMs,
        tags: &[&str],
    ) -> Result<Listing, GrafanaError> {
        let mut listing = Listing::default();
        let mut seen: HashSet<i64> = HashSet::new();
        let mut upper = to;
        let mut limit = self.config.page_size.max(1);
        while listing.pages < self.config.max_pages.max(1) {
            let mut query = vec![
                ("from", from.to_string()),
                ("to", upper.to_string()),
                ("limit", limit.to_string()),
                ("type", "annotation".to_string()),
            ];
            for t in tags {
                query.push(("tags", (*t).to_string()));
            }
            if tags.len() > 1 {
                query.push(("matchAny", "true".to_string()));
            }
            let (_, bytes) = self
                .send(Method::GET, PATH, &query, None, "read annotations")
                .await?;
            listing.pages += 1;
            let answer = parse_json(PATH, &bytes)?;
            let items = answer.as_array().ok_or_else(|| GrafanaError::Unexpected {
                path: PATH.into(),
                detail: "expected a JSON list of annotations".into(),
            })?;
            let mut fresh = 0;
            let mut oldest = upper;
            for item in items {
                let a = parse_annotation(item).map_err(|detail| GrafanaError::Unexpected {
                    path: PATH.into(),
                    detail,
                })?;
                oldest = oldest.min(a.time);
                if seen.insert(a.id) {
                    fresh += 1;
                    listing.annotations.push(a);
                }
            }
            if items.len() < limit {
                listing.complete = true;
                break;
            }
            if fresh == 0 || oldest >= upper {
                // A full page at one instant: ask for a larger page at the same bound.
                if limit >= MAX_PAGE {
                    break;
                }
                limit = (limit * 2).min(MAX_PAGE);
            } else {
                upper = oldest;
            }
        }
        Ok(listing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_annotation_reads_as_grafana_writes_it() {
        let a = parse_annotation(&json!({
            "id": 1124, "alertId": 0, "dashboardId": 468, "dashboardUID": "uGlb_lG7z",
            "panelId": 2, "userId": 1, "newState": "", "prevState": "",
            "created": 1507266395000_i64, "updated": 1507266396000_i64,
            "time": 1507266395000_i64, "timeEnd": 1507266395000_i64,
            "text": "Decision: roll back", "tags": ["decision", " team:payments "],
            "login": "alice", "email": "a@x", "avatarUrl": "/avatar/x", "data": {}
        }))
        .expect("annotation");
        assert_eq!(a.id, 1124);
        assert_eq!(a.dashboard_uid.as_deref(), Some("uGlb_lG7z"));
        assert_eq!(a.time_end, None, "a point annotation has timeEnd == time");
        assert_eq!(a.tags, ["decision", "team:payments"]);
        assert_eq!(a.updated, Some(1507266396000));
        let org = parse_annotation(&json!({"id": 5, "time": 10, "timeEnd": 20, "dashboardUID": null, "panelId": 0, "tags": null}))
            .expect("org annotation");
        assert_eq!(
            (org.dashboard_uid, org.panel_id, org.time_end),
            (None, None, Some(20))
        );
        assert!(parse_annotation(&json!({"time": 1})).is_err());
    }
}
