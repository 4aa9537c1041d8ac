//! The pure core: the maturity ladder of SPEC §5 and the target math of SPEC §4.2,
//! computed from values and an instant handed in. No clock, no I/O, no async, no SDK.
//!
//! - [`settings`]: the validated thresholds of `jsonData.maturity`.
//! - [`evidence`]: which events and targets count for a team, indexed once.
//! - [`ladder`]: criteria, level, score, blockers, history, level changes, and until when
//!   each result stays true.
//! - [`lapse`]: hours since the last review evidence (`reviewLapse`).
//! - [`targets`]: glide path, target status, progress, projection, decision follow-ups.
//! - [`suggest`]: suggested outcomes: a decision's metric before and after it, judged.
//! - [`agenda`]: the review agenda: what each team should discuss now, most urgent first.
//! - [`ratio`]: exact "k of n reaches a ratio" arithmetic.

pub mod agenda;
pub mod evidence;
pub mod ladder;
pub mod lapse;
pub mod ratio;
pub mod settings;
pub mod suggest;
pub mod targets;

pub use evidence::{counts_as_review_evidence, follow_up_at, EvidenceIndex, TeamEvidence};
pub use ladder::{
    evaluate, evaluate_timed, history, history_steps, level_changes, level_changes_over,
    level_history, CriterionResult, Evaluation, LevelChange, LevelPoint, Timed, CRITERIA,
    MAX_HISTORY_STEPS,
};
pub use lapse::{
    counts_for_dashboard, hours_overdue, hours_since_review, last_review_evidence, ReviewTimes,
};
pub use settings::MaturitySettings;

// Test-only modules come last: the purity test (tests/engine_purity.rs) ignores
// everything after the first `#[cfg(test)]` of a file.
#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod validity_tests;
