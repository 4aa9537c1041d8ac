//! Parsing of request bodies (loose JSON) into validated domain objects, with errors that
//! name the offending field. Nothing here touches the store.

use serde_json::{Map, Value};

use super::limits::{check_depth, check_list, check_uid, MAX_LIST_ITEMS};
use crate::model::{
    parse_time, type_name, validate_object_id, validate_team_id, Actual, Direction, EpochMs,
    EventKind, Invalid, OutcomeResult, Verdict,
};

/// A JSON object, or an error saying the body must be one.
pub fn object<'a>(field: &str, v: &'a Value) -> Result<&'a Map<String, Value>, Invalid> {
    v.as_object().ok_or_else(|| {
        Invalid::new(
            field,
            format!("expected a JSON object, got {}", type_name(v)),
        )
    })
}

fn present<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

/// An optional string field.
pub fn opt_string(
    o: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<String>, Invalid> {
    match present(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(Invalid::new(
            field,
            format!("expected a string, got {}", type_name(v)),
        )),
    }
}

/// A required string field.
pub fn req_string(o: &Map<String, Value>, key: &str, field: &str) -> Result<String, Invalid> {
    opt_string(o, key, field)?.ok_or_else(|| Invalid::new(field, "is required"))
}

/// An optional list of at most [`MAX_LIST_ITEMS`] strings.
pub fn opt_strings(
    o: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<Vec<String>>, Invalid> {
    match present(o, key) {
        None => Ok(None),
        Some(Value::Array(items)) => {
            check_list(field, items.len(), MAX_LIST_ITEMS).and_then(|()| {
                items
                    .iter()
                    .map(|i| {
                        i.as_str().map(String::from).ok_or_else(|| {
                            Invalid::new(
                                field,
                                format!("expected a list of strings, found {}", type_name(i)),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            })
        }
        Some(v) => Err(Invalid::new(
            field,
            format!("expected a list of strings, got {}", type_name(v)),
        )),
    }
}

/// An optional time (epoch ms or RFC 3339).
pub fn opt_time(
    o: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<EpochMs>, Invalid> {
    present(o, key).map(|v| parse_time(field, v)).transpose()
}

/// An optional finite number.
pub fn opt_number(o: &Map<String, Value>, key: &str, field: &str) -> Result<Option<f64>, Invalid> {
    match present(o, key) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(Invalid::new(field, "must be a finite number")),
        },
        Some(v) => Err(Invalid::new(
            field,
            format!("expected a number, got {}", type_name(v)),
        )),
    }
}

/// An optional integer.
pub fn opt_integer(o: &Map<String, Value>, key: &str, field: &str) -> Result<Option<i64>, Invalid> {
    match present(o, key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Invalid::new(field, format!("expected an integer, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| Invalid::new(field, format!("expected an integer, got {s:?}"))),
        Some(v) => Err(Invalid::new(
            field,
            format!("expected an integer, got {}", type_name(v)),
        )),
    }
}

/// An optional boolean.
pub fn opt_bool(o: &Map<String, Value>, key: &str, field: &str) -> Result<Option<bool>, Invalid> {
    match present(o, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(Invalid::new(
            field,
            format!("expected true or false, got {}", type_name(v)),
        )),
    }
}

/// A team definition as posted (`POST /teams`, `PUT /teams/{id}`, import).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamInput {
    /// Slug id.
    pub id: String,
    /// Display name (defaults to the id).
    pub name: String,
    /// Dashboard uids.
    pub dashboards: Vec<String>,
    /// Member logins.
    pub members: Vec<String>,
    /// Review cadence in days (default 7).
    pub cadence_days: u32,
    /// Creation time, when an import carries it.
    pub created_at: Option<EpochMs>,
}

/// Parses a team body; `path_id` is the id of `PUT /teams/{id}`, which the body may repeat.
pub fn team(v: &Value, path_id: Option<&str>) -> Result<TeamInput, Invalid> {
    let o = object("body", v)?;
    let id = match (opt_string(o, "id", "id")?, path_id) {
        (Some(body), Some(path)) if body != path => {
            return Err(Invalid::new(
                "id",
                format!("the body names team {body:?} but the path names {path:?}"),
            ))
        }
        (Some(body), _) => body,
        (None, Some(path)) => path.to_string(),
        (None, None) => return Err(Invalid::new("id", "is required")),
    };
    validate_team_id("id", &id)?;
    let name = opt_string(o, "name", "name")?.unwrap_or_else(|| id.clone());
    if name.trim().is_empty() {
        return Err(Invalid::new("name", "must not be blank"));
    }
    let dashboards = opt_strings(o, "dashboards", "dashboards")?.unwrap_or_default();
    if dashboards.iter().any(|d| d.trim().is_empty()) {
        return Err(Invalid::new(
            "dashboards",
            "a dashboard uid must not be blank",
        ));
    }
    for d in &dashboards {
        check_uid("dashboards", d)?;
    }
    let members = opt_strings(o, "members", "members")?.unwrap_or_default();
    let cadence = opt_integer(o, "cadenceDays", "cadenceDays")?.unwrap_or(7);
    if !(1..=366).contains(&cadence) {
        return Err(Invalid::new(
            "cadenceDays",
            format!("must be a whole number of days from 1 to 366, got {cadence}"),
        ));
    }
    Ok(TeamInput {
        id,
        name,
        dashboards,
        members,
        cadence_days: cadence as u32,
        created_at: opt_time(o, "createdAt", "createdAt")?,
    })
}

/// An event as posted, before the store assigns what the server owns.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInput {
    /// Given id, if any.
    pub id: Option<String>,
    /// Kind.
    pub kind: EventKind,
    /// Time (absent = now).
    pub time: Option<EpochMs>,
    /// End of a region.
    pub time_end: Option<EpochMs>,
    /// Team id.
    pub team: Option<String>,
    /// Dashboard uid.
    pub dashboard_uid: Option<String>,
    /// Panel id.
    pub panel_id: Option<i64>,
    /// Text.
    pub text: String,
    /// Tags.
    pub tags: Vec<String>,
    /// The kind's fields, validated, times normalised to epoch ms.
    pub data: Map<String, Value>,
}

/// Parses an event body (`POST /events`, one element of a batch). `at` prefixes field names
/// in errors (`[3].time` for the fourth element of a batch).
pub fn event(v: &Value, at: &str) -> Result<EventInput, Invalid> {
    let f = |name: &str| format!("{at}{name}");
    let o = object(
        if at.is_empty() {
            "body"
        } else {
            at.trim_end_matches('.')
        },
        v,
    )?;
    let kind_name = req_string(o, "kind", &f("kind"))?;
    let kind = EventKind::parse(&kind_name).ok_or_else(|| {
        Invalid::new(
            f("kind"),
            format!("unknown kind {kind_name:?}; one of view, review, question, decision, outcome, metric_change, note"),
        )
    })?;
    let id = opt_string(o, "id", &f("id"))?;
    if let Some(id) = &id {
        validate_object_id(&f("id"), id)?;
    }
    let time = opt_time(o, "time", &f("time"))?;
    let time_end = opt_time(o, "timeEnd", &f("timeEnd"))?;
    if let (Some(t), Some(e)) = (time, time_end) {
        if e < t {
            return Err(Invalid::new(f("timeEnd"), "must not be before time"));
        }
    }
    let team = opt_string(o, "team", &f("team"))?.filter(|t| !t.is_empty());
    if let Some(t) = &team {
        validate_team_id(&f("team"), t)?;
    }
    let dashboard_uid = match opt_string(o, "dashboardUid", &f("dashboardUid"))? {
        Some(d) => Some(d),
        None => opt_string(o, "dashboardUID", &f("dashboardUID"))?,
    }
    .filter(|d| !d.is_empty());
    if let Some(d) = &dashboard_uid {
        check_uid(&f("dashboardUid"), d)?;
    }
    let panel_id = opt_integer(o, "panelId", &f("panelId"))?;
    let text = opt_string(o, "text", &f("text"))?.unwrap_or_default();
    let tags = opt_strings(o, "tags", &f("tags"))?.unwrap_or_default();
    let data = match present(o, "data") {
        None => Map::new(),
        Some(d @ Value::Object(m)) => {
            check_depth(&f("data"), d)?;
            m.clone()
        }
        Some(v) => {
            return Err(Invalid::new(
                f("data"),
                format!("expected an object, got {}", type_name(v)),
            ))
        }
    };
    let data = event_data(kind, data, &f("data."))?;
    Ok(EventInput {
        id,
        kind,
        time,
        time_end,
        team,
        dashboard_uid,
        panel_id,
        text,
        tags,
        data,
    })
}

/// Validates the `data` fields of a kind (SPEC §3.1) and normalises its times to epoch ms.
pub fn event_data(
    kind: EventKind,
    mut data: Map<String, Value>,
    at: &str,
) -> Result<Map<String, Value>, Invalid> {
    let f = |name: &str| format!("{at}{name}");
    match kind {
        EventKind::Review => {
            opt_strings(&data, "attendees", &f("attendees"))?;
            opt_strings(&data, "dashboards", &f("dashboards"))?;
        }
        EventKind::Decision => {
            opt_string(&data, "owner", &f("owner"))?;
            expected_effect(&data, &f("expectedEffect"))?;
            // A query of the documented shape is evaluated for a suggested outcome (issue 12).
            if let Some(Some(Err(message))) =
                present(&data, "query").map(crate::grafana::dsquery::LiveQuery::from_json)
            {
                return Err(Invalid::new(
                    format!("{at}{}", message.split(':').next().unwrap_or("query")),
                    message
                        .split_once(": ")
                        .map(|(_, m)| m.to_string())
                        .unwrap_or(message.clone()),
                ));
            }
            if let Some(ms) = opt_time(&data, "followUpAt", &f("followUpAt"))? {
                data.insert("followUpAt".into(), Value::from(ms));
            }
        }
        EventKind::Outcome => {
            let decision = req_string(&data, "decisionId", &f("decisionId"))?;
            validate_object_id(&f("decisionId"), &decision)?;
            let result = req_string(&data, "result", &f("result"))?;
            if OutcomeResult::parse(&result).is_none() {
                return Err(Invalid::new(
                    f("result"),
                    format!(
                        "unknown result {result:?}; one of confirmed, not_confirmed, inconclusive"
                    ),
                ));
            }
        }
        EventKind::MetricChange => {
            if let Some(change) = opt_string(&data, "change", &f("change"))? {
                if !matches!(change.as_str(), "added" | "changed" | "removed") {
                    return Err(Invalid::new(
                        f("change"),
                        format!("unknown change {change:?}; one of added, changed, removed"),
                    ));
                }
            }
            opt_string(&data, "reason", &f("reason"))?;
        }
        EventKind::View | EventKind::Question | EventKind::Note => {}
    }
    Ok(data)
}

/// A decision's `expectedEffect`: words, or `{direction, minChange?, text?}` (issue 12: the
/// direction lets the plugin suggest an outcome).
fn expected_effect(data: &Map<String, Value>, field: &str) -> Result<(), Invalid> {
    match present(data, "expectedEffect") {
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Object(o)) => {
            let direction = req_string(o, "direction", &format!("{field}.direction"))?;
            if Direction::parse(&direction).is_none() {
                return Err(Invalid::new(
                    format!("{field}.direction"),
                    format!("unknown direction {direction:?}; one of increase, decrease"),
                ));
            }
            if let Some(m) = opt_number(o, "minChange", &format!("{field}.minChange"))? {
                if m < 0.0 {
                    return Err(Invalid::new(
                        format!("{field}.minChange"),
                        "must not be negative",
                    ));
                }
            }
            opt_string(o, "text", &format!("{field}.text"))?;
            Ok(())
        }
        Some(v) => Err(Invalid::new(
            field,
            format!(
                "expected words or {{\"direction\": \"increase\"|\"decrease\"}}, got {}",
                type_name(v)
            ),
        )),
    }
}

/// A target as posted (`POST /targets`, import).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInput {
    /// Given id, if any.
    pub id: Option<String>,
    /// Owning team.
    pub team: String,
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: Option<String>,
    /// Direction.
    pub direction: Direction,
    /// Baseline.
    pub baseline: Option<f64>,
    /// Target value.
    pub target: Option<f64>,
    /// Start (absent = now).
    pub start_at: Option<EpochMs>,
    /// Deadline.
    pub deadline: Option<EpochMs>,
    /// Free JSON.
    pub query: Option<Value>,
    /// Inline actuals.
    pub actuals: Vec<Actual>,
    /// Inline verification.
    pub verification: Option<VerificationInput>,
    /// Creation time, when an import carries it.
    pub created_at: Option<EpochMs>,
}

/// Parses a direction field.
pub fn direction(o: &Map<String, Value>, field: &str) -> Result<Option<Direction>, Invalid> {
    opt_string(o, "direction", field)?
        .map(|d| {
            Direction::parse(&d).ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("unknown direction {d:?}; one of increase, decrease"),
                )
            })
        })
        .transpose()
}

/// Parses a target body.
pub fn target(v: &Value) -> Result<TargetInput, Invalid> {
    let o = object("body", v)?;
    let id = opt_string(o, "id", "id")?;
    if let Some(id) = &id {
        validate_object_id("id", id)?;
    }
    let team = req_string(o, "team", "team")?;
    validate_team_id("team", &team)?;
    let name = req_string(o, "name", "name")?;
    if name.trim().is_empty() {
        return Err(Invalid::new("name", "must not be blank"));
    }
    let direction = direction(o, "direction")?
        .ok_or_else(|| Invalid::new("direction", "is required (increase or decrease)"))?;
    let actuals = match present(o, "actuals") {
        None => Vec::new(),
        Some(v) => actuals(v, "actuals")?,
    };
    let verification = present(o, "verification")
        .map(|v| verification(v, "verification."))
        .transpose()?;
    let query = present(o, "query").cloned();
    if let Some(q) = &query {
        check_depth("query", q)?;
    }
    let input = TargetInput {
        id,
        team,
        name,
        unit: opt_string(o, "unit", "unit")?,
        direction,
        baseline: opt_number(o, "baseline", "baseline")?,
        target: opt_number(o, "target", "target")?,
        start_at: opt_time(o, "startAt", "startAt")?,
        deadline: opt_time(o, "deadline", "deadline")?,
        query,
        actuals,
        verification,
        created_at: opt_time(o, "createdAt", "createdAt")?,
    };
    Ok(input)
}

/// Checks the numbers of a target that hang together: baseline ≠ target, deadline after start.
pub fn check_target_numbers(
    baseline: Option<f64>,
    target: Option<f64>,
    start_at: EpochMs,
    deadline: Option<EpochMs>,
) -> Result<(), Invalid> {
    if let (Some(b), Some(t)) = (baseline, target) {
        if b == t {
            return Err(Invalid::new(
                "target",
                format!("must differ from the baseline ({b}): there is nothing to move"),
            ));
        }
    }
    if let Some(d) = deadline {
        if d <= start_at {
            return Err(Invalid::new("deadline", "must be after startAt"));
        }
    }
    Ok(())
}

/// Parses one actual `{time, value}` or an array of them.
pub fn actuals(v: &Value, field: &str) -> Result<Vec<Actual>, Invalid> {
    let one = |v: &Value, at: String| -> Result<Actual, Invalid> {
        let o = object(&at, v)?;
        let time = opt_time(o, "time", &format!("{at}.time"))?
            .ok_or_else(|| Invalid::new(format!("{at}.time"), "is required"))?;
        let value = match present(o, "value") {
            Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()),
            Some(other) => {
                return Err(Invalid::new(
                    format!("{at}.value"),
                    format!("expected a finite number, got {}", type_name(other)),
                ))
            }
            None => None,
        }
        .ok_or_else(|| Invalid::new(format!("{at}.value"), "a finite number is required"))?;
        Ok(Actual { time, value })
    };
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| one(item, format!("{field}[{i}]")))
            .collect(),
        other => Ok(vec![one(other, field.to_string())?]),
    }
}

/// A finish-line check as posted.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationInput {
    /// Given verdict (absent = derived).
    pub verdict: Option<Verdict>,
    /// The value at the finish line.
    pub actual: Option<f64>,
    /// What was learnt (required; may be empty).
    pub learnings: String,
    /// When (absent = now).
    pub verified_at: Option<EpochMs>,
    /// Who, when an import carries it.
    pub verified_by: Option<String>,
}

/// Parses a verification body; `at` prefixes field names.
pub fn verification(v: &Value, at: &str) -> Result<VerificationInput, Invalid> {
    let f = |name: &str| format!("{at}{name}");
    let o = object(
        if at.is_empty() {
            "body"
        } else {
            at.trim_end_matches('.')
        },
        v,
    )?;
    let verdict = opt_string(o, "verdict", &f("verdict"))?
        .map(|s| {
            Verdict::parse(&s).ok_or_else(|| {
                Invalid::new(
                    f("verdict"),
                    format!("unknown verdict {s:?}; one of met, missed"),
                )
            })
        })
        .transpose()?;
    let learnings = opt_string(o, "learnings", &f("learnings"))?
        .ok_or_else(|| Invalid::new(f("learnings"), "is required (it may be an empty string)"))?;
    Ok(VerificationInput {
        verdict,
        actual: opt_number(o, "actual", &f("actual"))?,
        learnings,
        verified_at: opt_time(o, "verifiedAt", &f("verifiedAt"))?,
        verified_by: opt_string(o, "verifiedBy", &f("verifiedBy"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_team_takes_defaults_and_the_path_id() {
        let t = team(&json!({"name": "Payments"}), Some("payments")).expect("team");
        assert_eq!(t.id, "payments");
        assert_eq!(t.cadence_days, 7);
        assert!(t.members.is_empty());
        let err = team(&json!({"id": "other"}), Some("payments")).expect_err("mismatch");
        assert_eq!(err.field, "id");
        assert_eq!(
            team(&json!({"id": "p", "cadenceDays": 0}), None)
                .expect_err("zero")
                .field,
            "cadenceDays"
        );
        assert_eq!(
            team(&json!({"id": "p", "dashboards": [1]}), None)
                .expect_err("type")
                .field,
            "dashboards"
        );
    }

    #[test]
    fn an_event_names_the_field_that_is_wrong() {
        assert_eq!(
            event(&json!({"kind": "vote"}), "").expect_err("kind").field,
            "kind"
        );
        assert_eq!(
            event(&json!({"kind": "review", "time": "soon"}), "")
                .expect_err("time")
                .field,
            "time"
        );
        assert_eq!(
            event(
                &json!({"kind": "outcome", "data": {"result": "confirmed"}}),
                "[2]."
            )
            .expect_err("decision")
            .field,
            "[2].data.decisionId"
        );
        assert_eq!(
            event(
                &json!({"kind": "outcome", "data": {"decisionId": "d1", "result": "maybe"}}),
                ""
            )
            .expect_err("result")
            .field,
            "data.result"
        );
        assert_eq!(
            event(&json!({"kind": "note", "tags": "x"}), "")
                .expect_err("tags")
                .field,
            "tags"
        );
        assert_eq!(
            event(&json!({"kind": "note", "id": "a b"}), "")
                .expect_err("id")
                .field,
            "id"
        );
        assert_eq!(event(&json!([1]), "").expect_err("shape").field, "body");
    }

    #[test]
    fn a_decision_follow_up_is_normalised_to_epoch_ms() {
        let e = event(
            &json!({"kind": "decision", "team": "p", "data": {"followUpAt": "2026-06-01T00:00:00.5Z"}}),
            "",
        )
        .expect("decision");
        assert_eq!(
            e.data.get("followUpAt"),
            Some(&json!(1_780_272_000_500_i64))
        );
    }

    #[test]
    fn actuals_must_be_finite_numbers() {
        assert_eq!(
            actuals(&json!({"time": 1, "value": "9"}), "actuals")
                .expect_err("s")
                .field,
            "actuals.value"
        );
        assert_eq!(
            actuals(&json!([{"time": 1, "value": 1}, {"time": 2}]), "actuals")
                .expect_err("m")
                .field,
            "actuals[1].value"
        );
        assert_eq!(
            actuals(&json!([{"value": 1}]), "actuals")
                .expect_err("t")
                .field,
            "actuals[0].time"
        );
        assert_eq!(
            actuals(&json!([{"time": 1, "value": 2.5}]), "a").expect("ok"),
            vec![Actual {
                time: 1,
                value: 2.5
            }]
        );
    }

    #[test]
    fn target_numbers_must_hang_together() {
        assert_eq!(
            check_target_numbers(Some(1.0), Some(1.0), 0, None)
                .expect_err("eq")
                .field,
            "target"
        );
        assert_eq!(
            check_target_numbers(Some(1.0), Some(2.0), 10, Some(5))
                .expect_err("d")
                .field,
            "deadline"
        );
        assert!(check_target_numbers(None, Some(2.0), 10, None).is_ok());
        assert_eq!(
            target(&json!({"team": "p", "name": "n", "direction": "up"}))
                .expect_err("dir")
                .field,
            "direction"
        );
    }

    #[test]
    fn a_verification_needs_learnings_even_if_empty() {
        assert_eq!(
            verification(&json!({"verdict": "met"}), "")
                .expect_err("l")
                .field,
            "learnings"
        );
        let v = verification(&json!({"learnings": ""}), "").expect("empty ok");
        assert_eq!(v.verdict, None);
        assert_eq!(
            verification(&json!({"learnings": "", "verdict": "meh"}), "")
                .expect_err("v")
                .field,
            "verdict"
        );
    }
}
