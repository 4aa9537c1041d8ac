//! The thresholds of the maturity ladder (SPEC §5, `jsonData.maturity`), validated once.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{type_name, Invalid, DAY_MS};

/// The validated thresholds of SPEC §5. Build it with [`MaturitySettings::from_json`] at
/// the edge; the engine never panics on a value built by hand either (a zero window or
/// block count simply makes the criteria that need it fail).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaturitySettings {
    /// Length of the evaluation window `W`, in weeks (12).
    pub window_weeks: u32,
    /// Level 1: ad-hoc questions needed in the window (1).
    pub min_questions: u32,
    /// Level 2: defined targets needed (1).
    pub min_defined_targets: u32,
    /// Levels 3 and 7: how far back a verification counts, in days (182).
    pub loopback_days: u32,
    /// Level 4: share of periods that must be reviewed (0.75).
    pub review_ratio: f64,
    /// Level 5: length of one adjustment block, in days (28).
    pub adjustment_block_days: u32,
    /// Level 5: share of blocks that must hold a metric change (0.66).
    pub adjustment_ratio: f64,
    /// Level 6 (a): share of reviewed periods that must hold a decision (0.5).
    pub decision_ratio: f64,
    /// Level 6 (b): share of due decisions that must have an outcome (0.5).
    pub follow_through_ratio: f64,
    /// Level 7: live projects needed (2).
    pub min_projects: u32,
    /// Level 7: share of live projects that must be defined (0.8).
    pub defined_share: f64,
    /// Level 7: share of projects past deadline and grace that must be verified (0.8).
    pub verified_share: f64,
    /// Level 7: days after a deadline before a missing verification counts against (14).
    pub verification_grace_days: u32,
    /// Days after a decision when it falls due if it names no `followUpAt` (14).
    pub default_follow_up_days: u32,
    /// Target status: tolerance around the glide path, as a share of |target − baseline| (0.1).
    pub pace_tolerance: f64,
}

impl Default for MaturitySettings {
    fn default() -> Self {
        Self {
            window_weeks: 12,
            min_questions: 1,
            min_defined_targets: 1,
            loopback_days: 182,
            review_ratio: 0.75,
            adjustment_block_days: 28,
            adjustment_ratio: 0.66,
            decision_ratio: 0.5,
            follow_through_ratio: 0.5,
            min_projects: 2,
            defined_share: 0.8,
            verified_share: 0.8,
            verification_grace_days: 14,
            default_follow_up_days: 14,
            pace_tolerance: 0.1,
        }
    }
}

/// The prefix of every field name in a settings error, as the frontend nests it.
const PREFIX: &str = "maturity";

impl MaturitySettings {
    /// Reads the `jsonData.maturity` object: camelCase keys of SPEC §5, each optional.
    /// Absent or `null` (the object, or one key) means the default; unknown keys are
    /// ignored so that an older plugin accepts a newer frontend's settings.
    pub fn from_json(v: Option<&Value>) -> Result<Self, Invalid> {
        let obj = match v {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(obj)) => obj,
            Some(other) => {
                return Err(Invalid::new(
                    PREFIX,
                    format!("expected an object of thresholds, got {}", type_name(other)),
                ))
            }
        };
        let d = Self::default();
        let s = Self {
            window_weeks: count(obj, "windowWeeks", d.window_weeks)?,
            min_questions: count(obj, "minQuestions", d.min_questions)?,
            min_defined_targets: count(obj, "minDefinedTargets", d.min_defined_targets)?,
            loopback_days: count(obj, "loopbackDays", d.loopback_days)?,
            review_ratio: ratio(obj, "reviewRatio", d.review_ratio)?,
            adjustment_block_days: count(obj, "adjustmentBlockDays", d.adjustment_block_days)?,
            adjustment_ratio: ratio(obj, "adjustmentRatio", d.adjustment_ratio)?,
            decision_ratio: ratio(obj, "decisionRatio", d.decision_ratio)?,
            follow_through_ratio: ratio(obj, "followThroughRatio", d.follow_through_ratio)?,
            min_projects: count(obj, "minProjects", d.min_projects)?,
            defined_share: ratio(obj, "definedShare", d.defined_share)?,
            verified_share: ratio(obj, "verifiedShare", d.verified_share)?,
            verification_grace_days: count(
                obj,
                "verificationGraceDays",
                d.verification_grace_days,
            )?,
            default_follow_up_days: count(obj, "defaultFollowUpDays", d.default_follow_up_days)?,
            pace_tolerance: non_negative(obj, "paceTolerance", d.pace_tolerance)?,
        };
        s.validate()?;
        Ok(s)
    }

    /// Checks the relations between values that single fields cannot: a window and a
    /// block of at least one day, a block that fits in the window, ratios in [0, 1].
    /// [`from_json`](Self::from_json) calls it; call it for settings built in code.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.window_weeks == 0 {
            return Err(field_err("windowWeeks", "must be at least 1 week"));
        }
        if self.adjustment_block_days == 0 {
            return Err(field_err("adjustmentBlockDays", "must be at least 1 day"));
        }
        let window_days = u64::from(self.window_weeks) * 7;
        if window_days < u64::from(self.adjustment_block_days) {
            return Err(field_err(
                "adjustmentBlockDays",
                &format!(
                    "is {} days, longer than the {}-week window ({} days): the window would hold no block",
                    self.adjustment_block_days, self.window_weeks, window_days
                ),
            ));
        }
        for (key, v) in [
            ("reviewRatio", self.review_ratio),
            ("adjustmentRatio", self.adjustment_ratio),
            ("decisionRatio", self.decision_ratio),
            ("followThroughRatio", self.follow_through_ratio),
            ("definedShare", self.defined_share),
            ("verifiedShare", self.verified_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(field_err(
                    key,
                    &format!("is {v}; it must be between 0 and 1"),
                ));
            }
        }
        if !(self.pace_tolerance.is_finite() && self.pace_tolerance >= 0.0) {
            return Err(field_err(
                "paceTolerance",
                &format!(
                    "is {}; it must be a number of at least 0",
                    self.pace_tolerance
                ),
            ));
        }
        Ok(())
    }

    /// Checks a team's `cadenceDays` against these settings: at least one day, and a
    /// period that fits in the window (else the team has no period to be reviewed in).
    /// The error names the field `cadenceDays`. The engine itself treats such a team as
    /// having zero periods, so this is for whoever validates teams.
    pub fn check_cadence(&self, cadence_days: u32) -> Result<(), Invalid> {
        if cadence_days == 0 {
            return Err(Invalid::new("cadenceDays", "must be at least 1 day"));
        }
        if u64::from(cadence_days) > self.window_days() {
            return Err(Invalid::new(
                "cadenceDays",
                format!(
                    "is {cadence_days} days, longer than the {}-week window ({} days): no review period would fit",
                    self.window_weeks,
                    self.window_days()
                ),
            ));
        }
        Ok(())
    }

    /// Window length in days (`windowWeeks · 7`).
    pub fn window_days(&self) -> u64 {
        u64::from(self.window_weeks) * 7
    }

    /// Window length `W` in milliseconds.
    pub fn window_ms(&self) -> i64 {
        days_ms(self.window_days())
    }

    /// Number of adjustment blocks: `floor(windowWeeks·7 / adjustmentBlockDays)` (0 when
    /// the block length is 0).
    pub fn block_count(&self) -> u64 {
        periods_in(self.window_days(), self.adjustment_block_days)
    }

    /// Number of review periods for a cadence: `floor(windowWeeks·7 / cadenceDays)` (0
    /// when the cadence is 0).
    pub fn period_count(&self, cadence_days: u32) -> u64 {
        periods_in(self.window_days(), cadence_days)
    }
}

/// `floor(days / len)`, 0 for a zero length (which would otherwise divide by zero).
fn periods_in(days: u64, len: u32) -> u64 {
    if len == 0 {
        0
    } else {
        days / u64::from(len)
    }
}

/// Days to milliseconds, saturating (no value of a `u32` setting overflows, but a sum of
/// them might one day).
pub(crate) fn days_ms(days: u64) -> i64 {
    i64::try_from(days)
        .unwrap_or(i64::MAX)
        .saturating_mul(DAY_MS)
}

fn field_err(key: &str, message: &str) -> Invalid {
    Invalid::new(format!("{PREFIX}.{key}"), message.to_string())
}

/// The value of `key`, or `None` when it is absent or `null`.
fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// A whole, non-negative number that fits a `u32`.
fn count(obj: &Map<String, Value>, key: &str, default: u32) -> Result<u32, Invalid> {
    let Some(v) = present(obj, key) else {
        return Ok(default);
    };
    let Value::Number(n) = v else {
        return Err(field_err(
            key,
            &format!("expected a whole number, got {}", type_name(v)),
        ));
    };
    if let Some(u) = n.as_u64() {
        return u32::try_from(u)
            .map_err(|_| field_err(key, &format!("is {u}; it must be at most {}", u32::MAX)));
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f < 0.0 {
        return Err(field_err(key, &format!("is {n}; it must not be negative")));
    }
    if f.fract() != 0.0 || !f.is_finite() {
        return Err(field_err(
            key,
            &format!("is {n}; it must be a whole number"),
        ));
    }
    if f > f64::from(u32::MAX) {
        return Err(field_err(
            key,
            &format!("is {n}; it must be at most {}", u32::MAX),
        ));
    }
    // A whole number in range, written with a fraction part (`12.0`): take it as meant.
    Ok(f as u32)
}

/// Any finite number.
fn number(obj: &Map<String, Value>, key: &str, default: f64) -> Result<f64, Invalid> {
    let Some(v) = present(obj, key) else {
        return Ok(default);
    };
    match v.as_f64() {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(field_err(
            key,
            &format!("expected a number, got {}", type_name(v)),
        )),
    }
}

/// A number in [0, 1].
fn ratio(obj: &Map<String, Value>, key: &str, default: f64) -> Result<f64, Invalid> {
    let f = number(obj, key, default)?;
    if (0.0..=1.0).contains(&f) {
        Ok(f)
    } else {
        Err(field_err(
            key,
            &format!("is {f}; it must be between 0 and 1"),
        ))
    }
}

/// A number of at least 0.
fn non_negative(obj: &Map<String, Value>, key: &str, default: f64) -> Result<f64, Invalid> {
    let f = number(obj, key, default)?;
    if f >= 0.0 {
        Ok(f)
    } else {
        Err(field_err(key, &format!("is {f}; it must not be negative")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> Invalid {
        match MaturitySettings::from_json(Some(&v)) {
            Err(e) => e,
            Ok(s) => panic!("expected an error for {v}, got {s:?}"),
        }
    }

    #[test]
    fn absent_null_and_empty_give_the_spec_defaults() {
        let d = MaturitySettings::default();
        assert_eq!(d.window_weeks, 12);
        assert_eq!(d.min_questions, 1);
        assert_eq!(d.min_defined_targets, 1);
        assert_eq!(d.loopback_days, 182);
        assert_eq!(d.review_ratio, 0.75);
        assert_eq!(d.adjustment_block_days, 28);
        assert_eq!(d.adjustment_ratio, 0.66);
        assert_eq!(d.decision_ratio, 0.5);
        assert_eq!(d.follow_through_ratio, 0.5);
        assert_eq!(d.min_projects, 2);
        assert_eq!(d.defined_share, 0.8);
        assert_eq!(d.verified_share, 0.8);
        assert_eq!(d.verification_grace_days, 14);
        assert_eq!(d.default_follow_up_days, 14);
        assert_eq!(d.pace_tolerance, 0.1);
        assert_eq!(MaturitySettings::from_json(None), Ok(d.clone()));
        assert_eq!(
            MaturitySettings::from_json(Some(&Value::Null)),
            Ok(d.clone())
        );
        assert_eq!(MaturitySettings::from_json(Some(&json!({}))), Ok(d.clone()));
        assert_eq!(
            MaturitySettings::from_json(Some(&json!({"reviewRatio": null, "whatever": [1]}))),
            Ok(d)
        );
    }

    #[test]
    fn every_key_is_read_in_camel_case() {
        let s = MaturitySettings::from_json(Some(&json!({
            "windowWeeks": 8, "minQuestions": 3, "minDefinedTargets": 2, "loopbackDays": 90,
            "reviewRatio": 0.5, "adjustmentBlockDays": 14, "adjustmentRatio": 1,
            "decisionRatio": 0.25, "followThroughRatio": 0, "minProjects": 4,
            "definedShare": 0.9, "verifiedShare": 0.7, "verificationGraceDays": 0,
            "defaultFollowUpDays": 30, "paceTolerance": 2.5
        })))
        .unwrap();
        assert_eq!(
            s,
            MaturitySettings {
                window_weeks: 8,
                min_questions: 3,
                min_defined_targets: 2,
                loopback_days: 90,
                review_ratio: 0.5,
                adjustment_block_days: 14,
                adjustment_ratio: 1.0,
                decision_ratio: 0.25,
                follow_through_ratio: 0.0,
                min_projects: 4,
                defined_share: 0.9,
                verified_share: 0.7,
                verification_grace_days: 0,
                default_follow_up_days: 30,
                pace_tolerance: 2.5,
            }
        );
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_accepted() {
        let s = MaturitySettings::from_json(Some(&json!({"windowWeeks": 6.0}))).unwrap();
        assert_eq!(s.window_weeks, 6);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = err(json!({"reviewRatio": "0.75"}));
        assert_eq!(e.field, "maturity.reviewRatio");
        assert!(e.message.contains("a string"), "{}", e.message);
        let e = err(json!({"windowWeeks": true}));
        assert_eq!(e.field, "maturity.windowWeeks");
        assert!(e.message.contains("a boolean"), "{}", e.message);
        let e = err(json!([1, 2]));
        assert_eq!(e.field, "maturity");
    }

    #[test]
    fn counts_must_be_whole_and_not_negative() {
        let e = err(json!({"minQuestions": -1}));
        assert_eq!(e.field, "maturity.minQuestions");
        assert!(e.message.contains("negative"), "{}", e.message);
        let e = err(json!({"loopbackDays": 1.5}));
        assert_eq!(e.field, "maturity.loopbackDays");
        assert!(e.message.contains("whole"), "{}", e.message);
        let e = err(json!({"minProjects": 5_000_000_000_u64}));
        assert_eq!(e.field, "maturity.minProjects");
        let e = err(json!({"minProjects": -0.5}));
        assert_eq!(e.field, "maturity.minProjects");
    }

    #[test]
    fn ratios_and_shares_must_lie_in_zero_to_one() {
        for key in [
            "reviewRatio",
            "adjustmentRatio",
            "decisionRatio",
            "followThroughRatio",
            "definedShare",
            "verifiedShare",
        ] {
            for bad in [json!(-0.01), json!(1.01), json!(75)] {
                let e = err(json!({ key: bad }));
                assert_eq!(e.field, format!("maturity.{key}"));
                assert!(e.message.contains("between 0 and 1"), "{}", e.message);
            }
            for good in [json!(0), json!(1), json!(0.5)] {
                assert!(MaturitySettings::from_json(Some(&json!({ key: good }))).is_ok());
            }
        }
    }

    #[test]
    fn zero_window_and_zero_block_are_refused() {
        assert_eq!(err(json!({"windowWeeks": 0})).field, "maturity.windowWeeks");
        assert_eq!(
            err(json!({"adjustmentBlockDays": 0})).field,
            "maturity.adjustmentBlockDays"
        );
    }

    #[test]
    fn a_block_longer_than_the_window_is_refused() {
        let e = err(json!({"windowWeeks": 3, "adjustmentBlockDays": 22}));
        assert_eq!(e.field, "maturity.adjustmentBlockDays");
        assert!(e.message.contains("no block"), "{}", e.message);
        // Exactly one block still fits.
        let s = MaturitySettings::from_json(Some(
            &json!({"windowWeeks": 3, "adjustmentBlockDays": 21}),
        ))
        .unwrap();
        assert_eq!(s.block_count(), 1);
    }

    #[test]
    fn pace_tolerance_must_not_be_negative() {
        let e = err(json!({"paceTolerance": -0.1}));
        assert_eq!(e.field, "maturity.paceTolerance");
        assert!(MaturitySettings::from_json(Some(&json!({"paceTolerance": 3}))).is_ok());
    }

    #[test]
    fn cadence_is_checked_against_the_window() {
        let s = MaturitySettings::default();
        assert!(s.check_cadence(7).is_ok());
        assert!(s.check_cadence(84).is_ok());
        assert_eq!(s.check_cadence(0).unwrap_err().field, "cadenceDays");
        assert_eq!(s.check_cadence(85).unwrap_err().field, "cadenceDays");
    }

    #[test]
    fn period_and_block_counts_floor_and_survive_zero() {
        let s = MaturitySettings::default();
        assert_eq!(s.period_count(7), 12);
        assert_eq!(s.period_count(10), 8);
        assert_eq!(s.period_count(5), 16);
        assert_eq!(s.period_count(0), 0);
        assert_eq!(s.block_count(), 3);
        let odd = MaturitySettings {
            adjustment_block_days: 0,
            ..MaturitySettings::default()
        };
        assert_eq!(odd.block_count(), 0);
        assert!(odd.validate().is_err());
    }
}
