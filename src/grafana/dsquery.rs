//! `POST /api/ds/query`: evaluate the query a target or a decision carries — `{datasourceUid,
//! model}`, the JSON a panel sends — over a time range, and read the answer Grafana writes
//! with the Go SDK's JSON encoding of data frames (`{"results": {refId: {"frames": [{"schema":
//! …, "data": {"values": …, "entities": …}}], "error": …, "status": …}}}`).
//!
//! The answer is reduced to the values of its first numeric field (the first field of type
//! `number` of the first frame that has one), in row order, with nulls, NaN and infinities
//! left out: [`last_value`] of them is a live actual, [`mean`] a period's level.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::{parse_json, GrafanaClient, GrafanaError};
use crate::model::EpochMs;

/// The API path.
pub const PATH: &str = "api/ds/query";

/// The refId used when the model names none.
const DEFAULT_REF: &str = "A";

/// A query to evaluate through Grafana: a datasource and the JSON its panel sends.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveQuery {
    /// The datasource's uid.
    pub datasource_uid: String,
    /// The panel query (`expr`, `refId`, ...).
    pub model: Map<String, Value>,
}

impl LiveQuery {
    /// Reads `{datasourceUid, model}`. `None` when the value is not of that shape at all (a
    /// free-form description of the metric, which is not evaluated); an error naming the
    /// field when it is half of it.
    pub fn from_json(v: &Value) -> Option<Result<LiveQuery, String>> {
        let o = v.as_object()?;
        if !o.contains_key("datasourceUid") && !o.contains_key("model") {
            return None;
        }
        let uid = match o
            .get("datasourceUid")
            .and_then(Value::as_str)
            .map(str::trim)
        {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => return Some(Err("query.datasourceUid: must be a datasource uid".into())),
        };
        match o.get("model") {
            Some(Value::Object(m)) => Some(Ok(LiveQuery {
                datasource_uid: uid,
                model: m.clone(),
            })),
            _ => Some(Err(
                "query.model: must be the query object a panel sends (for example {\"expr\": \"…\"})"
                    .into(),
            )),
        }
    }

    fn ref_id(&self) -> String {
        self.model
            .get("refId")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .unwrap_or(DEFAULT_REF)
            .to_string()
    }

    /// The request body for `[from, to]`.
    pub fn body(&self, from: EpochMs, to: EpochMs) -> Value {
        let mut q = self.model.clone();
        q.insert("refId".into(), Value::from(self.ref_id()));
        let mut ds = match q.get("datasource") {
            Some(Value::Object(d)) => d.clone(),
            _ => Map::new(),
        };
        ds.insert("uid".into(), Value::from(self.datasource_uid.clone()));
        q.insert("datasource".into(), Value::Object(ds));
        json!({"queries": [q], "from": from.to_string(), "to": to.to_string()})
    }
}

/// The first numeric field of an answer, reduced to its usable values.
#[derive(Debug, Clone, PartialEq)]
pub struct Numbers {
    /// The field's name.
    pub field: String,
    /// Its finite values in row order.
    pub values: Vec<f64>,
}

/// The last value, if any.
pub fn last_value(values: &[f64]) -> Option<f64> {
    values.last().copied()
}

/// The mean, if there is a value, to 12 significant digits (so that the mean of 2.3 and
/// 2.4 reads 2.35, not 2.3499999999999996).
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let m = values.iter().sum::<f64>() / values.len() as f64;
    Some(format!("{m:.11e}").parse().unwrap_or(m))
}

/// Reads the answer of `ref_id` from a `/api/ds/query` body (the Go SDK's JSON).
pub fn first_numbers(answer: &Value, ref_id: &str) -> Result<Numbers, GrafanaError> {
    let unexpected = |detail: String| GrafanaError::Unexpected {
        path: PATH.into(),
        detail,
    };
    let results = answer
        .get("results")
        .and_then(Value::as_object)
        .ok_or_else(|| unexpected("no \"results\" object".into()))?;
    let result = results
        .get(ref_id)
        .or_else(|| {
            (results.len() == 1)
                .then(|| results.values().next())
                .flatten()
        })
        .ok_or_else(|| unexpected(format!("no result for refId {ref_id}")))?;
    let status = result
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok());
    if let Some(err) = result
        .get("error")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
    {
        return Err(GrafanaError::Query {
            status,
            message: err.to_string(),
        });
    }
    let frames = match result.get("frames") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(f)) => f.as_slice(),
        Some(_) => return Err(unexpected("\"frames\" is not a list".into())),
    };
    let mut rows = 0usize;
    let mut seen: Vec<String> = Vec::new();
    for frame in frames {
        let fields = frame
            .pointer("/schema/fields")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let values = frame
            .pointer("/data/values")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        rows += values.first().and_then(Value::as_array).map_or(0, Vec::len);
        for (i, f) in fields.iter().enumerate() {
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let ty = f.get("type").and_then(Value::as_str).unwrap_or("other");
            if ty != "number" {
                seen.push(format!("{name} ({ty})"));
                continue;
            }
            let column = values
                .get(i)
                .and_then(Value::as_array)
                .ok_or_else(|| unexpected(format!("field {name:?} has no values")))?;
            // NaN, +Inf and -Inf travel as nulls listed in "entities".
            let special: Vec<usize> = frame
                .pointer("/data/entities")
                .and_then(|e| e.get(i))
                .and_then(Value::as_object)
                .map(|e| {
                    e.values()
                        .filter_map(Value::as_array)
                        .flatten()
                        .filter_map(Value::as_u64)
                        .filter_map(|n| usize::try_from(n).ok())
                        .collect()
                })
                .unwrap_or_default();
            let numbers: Vec<f64> = column
                .iter()
                .enumerate()
                .filter(|(row, _)| !special.contains(row))
                .filter_map(|(_, v)| v.as_f64())
                .filter(|v| v.is_finite())
                .collect();
            if numbers.is_empty() {
                return Err(GrafanaError::NoData {
                    detail: format!("its first numeric field {name:?} holds no value"),
                });
            }
            return Ok(Numbers {
                field: name,
                values: numbers,
            });
        }
    }
    if frames.is_empty() || rows == 0 {
        Err(GrafanaError::NoData {
            detail: if frames.is_empty() {
                "no frame".into()
            } else {
                "no row".into()
            },
        })
    } else {
        Err(GrafanaError::NotNumeric {
            detail: format!("fields: {}", seen.join(", ")),
        })
    }
}

impl GrafanaClient {
    /// Evaluates `query` over `[from, to]` and answers its first numeric field's values.
    pub async fn query_numbers(
        &self,
        query: &LiveQuery,
        from: EpochMs,
        to: EpochMs,
    ) -> Result<Numbers, GrafanaError> {
        let body = query.body(from, to);
        let (_, bytes) = self
            .send(
                Method::POST,
                PATH,
                &[],
                Some(&body),
                &format!("query datasource {}", query.datasource_uid),
            )
            .await?;
        let answer = parse_json(PATH, &bytes)?;
        first_numbers(&answer, &query.ref_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_shape_is_a_live_query() {
        assert_eq!(LiveQuery::from_json(&json!("rate(x[5m])")), None);
        assert_eq!(LiveQuery::from_json(&json!({"expr": "x"})), None);
        let q = LiveQuery::from_json(&json!({"datasourceUid": "prom", "model": {"expr": "x"}}))
            .expect("shape")
            .expect("valid");
        assert_eq!(q.datasource_uid, "prom");
        assert!(LiveQuery::from_json(&json!({"datasourceUid": "prom"}))
            .expect("shape")
            .is_err());
        assert!(LiveQuery::from_json(&json!({"model": {}}))
            .expect("shape")
            .is_err());
    }

    #[test]
    fn the_body_names_the_datasource_the_ref_and_the_range() {
        let q = LiveQuery {
            datasource_uid: "prom".into(),
            model: json!({"expr": "up", "datasource": {"type": "prometheus", "uid": "old"}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        assert_eq!(
            q.body(1, 2),
            json!({"queries": [{"expr": "up", "refId": "A",
                                "datasource": {"type": "prometheus", "uid": "prom"}}],
                   "from": "1", "to": "2"})
        );
    }

    #[test]
    fn means_and_last_values() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1.0, 2.0]), Some(1.5));
        assert_eq!(mean(&[2.3, 2.4]), Some(2.35));
        assert_eq!(mean(&[1e-15, 3e-15]), Some(2e-15));
        assert_eq!(last_value(&[1.0, 2.0]), Some(2.0));
    }
}
