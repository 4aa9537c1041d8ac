//! `maturityHistory` and `levelChanges` through the running binary: every step equals the
//! evaluation at that instant, the last point equals the `maturity` answer, and each change
//! names the criterion that flipped.

mod common;

use common::*;
use serde_json::json;

const DAY: i64 = 86_400_000;

/// A scenario of the repository's own `tests/scenarios` by file name.
fn repository_scenario(file: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("scenario json")
}

#[tokio::test]
async fn history_agrees_with_one_evaluation_per_step_and_ends_at_the_maturity_answer() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let s = repository_scenario("level-7-data-driven.json");
    load_scenario(&mut p, 1, &s).await;
    let at = ms(s["at"].as_str().expect("at"));
    let from = at - 120 * DAY;
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                query("H", "maturityHistory", json!({}), from, at),
                query("M", "maturity", json!({}), from, at),
                query("L", "levelChanges", json!({"team": "payments"}), from, at),
            ],
        )
        .await;
    let h = frames_of(&resp, "H").expect("history").remove(0);
    let m = frames_of(&resp, "M").expect("maturity").remove(0);
    let times: Vec<i64> = h
        .field("time")
        .column
        .times()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(times.len(), 121, "one step per day, both ends included");
    assert_eq!(times.last(), Some(&at), "steps are anchored at T");
    assert!(times.windows(2).all(|w| w[1] - w[0] == DAY));
    let level = h
        .fields
        .iter()
        .find(|f| f.name == "level" && f.labels.get("team").map(String::as_str) == Some("payments"))
        .expect("payments series");
    let levels = level.column.nums();
    assert_eq!(
        levels.last().copied(),
        m.field("level").column.nums().first().copied(),
        "the last point is the maturity answer"
    );
    // Every step equals the evaluation of GET /maturity at that instant.
    for (t, l) in times.iter().zip(&levels) {
        let e = p
            .ok(
                p.viewer(1),
                "GET",
                &format!("maturity?team=payments&at={t}"),
                None,
                200,
            )
            .await;
        assert_eq!(e[0]["level"].as_f64(), Some(*l), "step {t}");
    }
    // The levels move over 120 days (the team builds up evidence), and each move is a change.
    let moves = levels.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(
        moves > 0,
        "the history of level-7-data-driven shows the team climbing: {levels:?}"
    );
    let l = frames_of(&resp, "L").expect("levelChanges").remove(0);
    assert_eq!(l.rows(), moves);
    for text in l.field("text").column.strs() {
        assert!(
            text.starts_with("Level ") && text.contains(" → ") && text.contains(": "),
            "{text}"
        );
    }
    for name in ["time", "timeEnd", "title", "text", "tags", "id"] {
        l.field(name);
    }
}

#[tokio::test]
async fn a_longer_query_interval_makes_longer_steps() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "payments"})),
        201,
    )
    .await;
    let at = ms("2026-06-01T00:00:00Z");
    let mut q = query("H", "maturityHistory", json!({}), at - 70 * DAY, at);
    q.interval_ms = 7 * DAY;
    let resp = p.query(p.viewer(1), &[], vec![q]).await;
    let h = frames_of(&resp, "H").expect("history").remove(0);
    let times: Vec<i64> = h
        .field("time")
        .column
        .times()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(times.len(), 11);
    assert_eq!(times.last(), Some(&at));
    assert_eq!(
        h.field("level").labels.get("team").map(String::as_str),
        Some("payments")
    );
}
