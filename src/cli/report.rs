//! The readable form of `maturity report`: a summary table (team, level, score, the
//! blocker of the next level), then each team's criteria with ✓/✗, value/threshold and
//! the detail sentence. Pure functions of the evaluations.

use crate::engine::Evaluation;

/// One line per team: `TEAM  LEVEL  SCORE  NEXT BLOCKER`.
pub fn summary(evals: &[Evaluation]) -> String {
    let width = evals
        .iter()
        .map(|e| e.team.chars().count())
        .max()
        .unwrap_or(0)
        .max("TEAM".len());
    let mut out = format!("{:<width$}  LEVEL  SCORE  NEXT BLOCKER\n", "TEAM");
    for e in evals {
        let next = e
            .blockers
            .first()
            .map(String::as_str)
            .unwrap_or("— (every criterion holds)");
        out.push_str(&format!(
            "{:<width$}  {:<5}  {:<5}  {next}\n",
            e.team, e.level, e.score
        ));
    }
    out
}

/// The summary, then for each team one line per criterion:
/// `✓ L1 adhoc_queries  3/1  3 ad-hoc questions in the last 12 weeks`.
pub fn full(evals: &[Evaluation]) -> String {
    let mut out = summary(evals);
    let id_width = evals
        .iter()
        .flat_map(|e| e.criteria.iter().map(|c| c.id.len()))
        .max()
        .unwrap_or(0);
    for e in evals {
        out.push_str(&format!(
            "\n{}: level {}, score {} of {}\n",
            e.team,
            e.level,
            e.score,
            e.criteria.len()
        ));
        let ratios: Vec<String> = e
            .criteria
            .iter()
            .map(|c| format!("{}/{}", number(c.value), number(c.threshold)))
            .collect();
        let ratio_width = ratios.iter().map(String::len).max().unwrap_or(0);
        for (c, ratio) in e.criteria.iter().zip(&ratios) {
            out.push_str(&format!(
                "  {} L{} {:<id_width$}  {:<ratio_width$}  {}\n",
                if c.passed { "✓" } else { "✗" },
                c.level,
                c.id,
                ratio,
                c.detail
            ));
        }
    }
    out
}

/// A value for people: whole numbers without decimals, others to two places.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::CriterionResult;

    fn eval(team: &str, level: u8, passed: &[bool]) -> Evaluation {
        let criteria: Vec<CriterionResult> = passed
            .iter()
            .enumerate()
            .map(|(i, p)| CriterionResult {
                id: crate::engine::CRITERIA[i],
                level: i as u8 + 1,
                passed: *p,
                value: if *p { 1.0 } else { 7.0 / 12.0 },
                threshold: 0.75,
                detail: format!("detail {}", i + 1),
                evidence: vec![],
            })
            .collect();
        Evaluation {
            team: team.into(),
            level,
            score: passed.iter().filter(|p| **p).count() as u8,
            at: 0,
            blockers: criteria
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.detail.clone())
                .collect(),
            criteria,
        }
    }

    #[test]
    fn the_summary_names_the_blocker_of_the_next_level() {
        let evals = [
            eval("payments", 4, &[true, true, true, true, false, true, false]),
            eval("checkout", 7, &[true; 7]),
        ];
        let text = summary(&evals);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "TEAM      LEVEL  SCORE  NEXT BLOCKER");
        assert_eq!(lines[1], "payments  4      5      detail 5");
        assert!(
            lines[2].starts_with("checkout  7      7      —"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn the_full_report_lists_every_criterion_with_its_numbers() {
        let text = full(&[eval(
            "payments",
            4,
            &[true, true, true, true, false, true, false],
        )]);
        assert!(text.contains("payments: level 4, score 5 of 7"), "{text}");
        assert!(
            text.contains("  ✓ L1 adhoc_queries         1/0.75     detail 1"),
            "{text}"
        );
        assert!(
            text.contains("  ✗ L5 regular_adjustments   0.58/0.75  detail 5"),
            "{text}"
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.75), "0.75");
        assert_eq!(number(2.0 / 3.0), "0.67");
        assert_eq!(number(0.5), "0.5");
    }
}
