//! Decoding of one query's loose JSON into a typed query (SPEC §4.1). A query that does not
//! decode fails alone, on its own refId.

use serde_json::{Map, Value};

use super::frames::LapseMeasure;
use crate::app::input::{opt_bool, opt_integer, opt_string};
use crate::app::loops::{follow_up_status_filter, target_status_filter};
use crate::app::queries::TeamSelector;
use crate::app::MAX_EVENT_PAGE;
use crate::engine::targets::{FollowUpStatus, TargetStatus};
use crate::model::{type_name, EventKind, Invalid};

/// Default number of events an `events` query returns (annotations of a dashboard range).
pub const DEFAULT_QUERY_EVENTS: usize = 1000;

/// A decoded query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Annotation-shaped events.
    Events {
        /// Kinds (empty = all).
        kinds: Vec<EventKind>,
        /// Teams.
        teams: TeamSelector,
        /// Dashboard filter.
        dashboard_uid: Option<String>,
        /// Tags that must all be present.
        tags: Vec<String>,
        /// Page size.
        limit: usize,
    },
    /// Team ids for template variables.
    Teams,
    /// Counts per day.
    ReviewActivity {
        /// Teams.
        teams: TeamSelector,
    },
    /// Hours since review (alertable).
    ReviewLapse {
        /// Teams.
        teams: TeamSelector,
        /// One row per dashboard instead of per team.
        per_dashboard: bool,
        /// Which number.
        measure: LapseMeasure,
    },
    /// Level per team (alertable).
    Maturity {
        /// Teams.
        teams: TeamSelector,
    },
    /// Criteria per team.
    Criteria {
        /// Teams.
        teams: TeamSelector,
    },
    /// Level over time.
    MaturityHistory {
        /// Teams.
        teams: TeamSelector,
    },
    /// Changes of level as annotations.
    LevelChanges {
        /// Teams.
        teams: TeamSelector,
    },
    /// Targets with derived status.
    Targets {
        /// Teams.
        teams: TeamSelector,
        /// Only this status.
        status: Option<TargetStatus>,
    },
    /// Actual vs planned per target.
    TargetSeries {
        /// One target.
        target_id: Option<String>,
        /// Or a team's targets.
        teams: TeamSelector,
    },
    /// Decisions and their follow-ups.
    FollowUps {
        /// Teams.
        teams: TeamSelector,
        /// Only this status.
        status: Option<FollowUpStatus>,
    },
    /// Overdue follow-ups (alertable).
    FollowUpsOverdue {
        /// Teams.
        teams: TeamSelector,
    },
    /// Projects past their deadline without verification (alertable).
    VerificationDue {
        /// Teams.
        teams: TeamSelector,
    },
}

/// The query types this backend answers.
pub const QUERY_TYPES: &[&str] = &[
    "events",
    "teams",
    "reviewActivity",
    "reviewLapse",
    "maturity",
    "criteria",
    "maturityHistory",
    "levelChanges",
    "targets",
    "targetSeries",
    "followUps",
    "followUpsOverdue",
    "verificationDue",
];

fn is_all(s: &str) -> bool {
    matches!(s.trim(), "" | "*" | "$__all" | "All")
}

/// Reads `team`: one id, an array of ids, a `{a,b}` multi-value, or absent / `*` / `$__all`.
pub fn team_selector(o: &Map<String, Value>) -> Result<TeamSelector, Invalid> {
    let ids: Vec<String> = match o.get("team") {
        None | Some(Value::Null) => return Ok(TeamSelector::All),
        Some(Value::String(s)) => {
            let s = s.trim();
            let inner = s
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or(s);
            inner.split(',').map(|p| p.trim().to_string()).collect()
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(String::from).ok_or_else(|| {
                    Invalid::new("team", format!("expected team ids, found {}", type_name(i)))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(v) => {
            return Err(Invalid::new(
                "team",
                format!("expected a team id or a list of ids, got {}", type_name(v)),
            ))
        }
    };
    if ids.is_empty() || ids.iter().any(|i| is_all(i)) {
        return Ok(TeamSelector::All);
    }
    Ok(TeamSelector::Only(ids))
}

fn list(o: &Map<String, Value>, key: &str) -> Result<Vec<String>, Invalid> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| Invalid::new(key, "expected a list of strings"))
            })
            .collect(),
        Some(v) => Err(Invalid::new(
            key,
            format!("expected a list of strings, got {}", type_name(v)),
        )),
    }
}

/// Decodes a query; `query_type` is the DataQuery's own field, else the JSON's `queryType`.
pub fn decode(query_type: &str, json: &Value) -> Result<Query, Invalid> {
    let empty = Map::new();
    let o = match json {
        Value::Object(o) => o,
        Value::Null => &empty,
        other => {
            return Err(Invalid::new(
                "query",
                format!("expected a JSON object, got {}", type_name(other)),
            ))
        }
    };
    let from_json = opt_string(o, "queryType", "queryType")?;
    let qt = if query_type.is_empty() {
        from_json.unwrap_or_default()
    } else {
        query_type.to_string()
    };
    let teams = || team_selector(o);
    Ok(match qt.as_str() {
        "events" => {
            let kinds = list(o, "kinds")?
                .iter()
                .map(|k| {
                    EventKind::parse(k)
                        .ok_or_else(|| Invalid::new("kinds", format!("unknown kind {k:?}")))
                })
                .collect::<Result<_, _>>()?;
            let limit = opt_integer(o, "limit", "limit")?.unwrap_or(DEFAULT_QUERY_EVENTS as i64);
            if limit < 1 || limit > MAX_EVENT_PAGE as i64 {
                return Err(Invalid::new(
                    "limit",
                    format!("must be from 1 to {MAX_EVENT_PAGE}, got {limit}"),
                ));
            }
            Query::Events {
                kinds,
                teams: teams()?,
                dashboard_uid: opt_string(o, "dashboardUid", "dashboardUid")?
                    .or(opt_string(o, "dashboardUID", "dashboardUID")?)
                    .filter(|d| !d.is_empty()),
                tags: list(o, "tags")?,
                limit: limit as usize,
            }
        }
        "teams" => Query::Teams,
        "reviewActivity" => Query::ReviewActivity { teams: teams()? },
        "reviewLapse" => {
            let measure = match opt_string(o, "measure", "measure")?.as_deref() {
                None | Some("") | Some("hoursSinceReview") => LapseMeasure::HoursSinceReview,
                Some("hoursOverdue") => LapseMeasure::HoursOverdue,
                Some(other) => {
                    return Err(Invalid::new(
                        "measure",
                        format!("unknown measure {other:?}; one of hoursSinceReview, hoursOverdue"),
                    ))
                }
            };
            Query::ReviewLapse {
                teams: teams()?,
                per_dashboard: opt_bool(o, "perDashboard", "perDashboard")?.unwrap_or(false),
                measure,
            }
        }
        "maturity" => Query::Maturity { teams: teams()? },
        "criteria" => Query::Criteria { teams: teams()? },
        "maturityHistory" => Query::MaturityHistory { teams: teams()? },
        "levelChanges" => Query::LevelChanges { teams: teams()? },
        "targets" => Query::Targets {
            teams: teams()?,
            status: target_status_filter(opt_string(o, "status", "status")?.as_deref())?,
        },
        "targetSeries" => Query::TargetSeries {
            target_id: opt_string(o, "targetId", "targetId")?.filter(|t| !t.is_empty()),
            teams: teams()?,
        },
        "followUps" => Query::FollowUps {
            teams: teams()?,
            status: follow_up_status_filter(opt_string(o, "status", "status")?.as_deref())?,
        },
        "followUpsOverdue" => Query::FollowUpsOverdue { teams: teams()? },
        "verificationDue" => Query::VerificationDue { teams: teams()? },
        "" => {
            return Err(Invalid::new(
                "queryType",
                format!("is required; one of {}", QUERY_TYPES.join(", ")),
            ))
        }
        other => {
            return Err(Invalid::new(
                "queryType",
                format!(
                    "unknown queryType {other:?}; one of {}",
                    QUERY_TYPES.join(", ")
                ),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn team_takes_one_id_a_list_or_all() {
        let sel = |v: Value| team_selector(v.as_object().expect("object"));
        assert_eq!(sel(json!({})), Ok(TeamSelector::All));
        assert_eq!(sel(json!({"team": "*"})), Ok(TeamSelector::All));
        assert_eq!(sel(json!({"team": "$__all"})), Ok(TeamSelector::All));
        assert_eq!(
            sel(json!({"team": "p"})),
            Ok(TeamSelector::Only(vec!["p".into()]))
        );
        assert_eq!(
            sel(json!({"team": ["p", "q"]})),
            Ok(TeamSelector::Only(vec!["p".into(), "q".into()]))
        );
        assert_eq!(
            sel(json!({"team": "{p,q}"})),
            Ok(TeamSelector::Only(vec!["p".into(), "q".into()]))
        );
        assert!(sel(json!({"team": 5})).is_err());
    }

    #[test]
    fn unknown_or_missing_query_types_are_named() {
        assert_eq!(
            decode("", &json!({})).expect_err("missing").field,
            "queryType"
        );
        assert!(decode("vote", &json!({}))
            .expect_err("unknown")
            .message
            .contains("vote"));
        assert_eq!(decode("", &json!({"queryType": "teams"})), Ok(Query::Teams));
        assert_eq!(
            decode("events", &json!({"limit": 0}))
                .expect_err("limit")
                .field,
            "limit"
        );
        assert_eq!(
            decode("reviewLapse", &json!({"measure": "days"}))
                .expect_err("m")
                .field,
            "measure"
        );
        assert_eq!(
            decode("events", &json!("x")).expect_err("shape").field,
            "query"
        );
    }
}
