//! Issue 11, defect 2, through the running binary: the metrics' cardinality is bounded
//! (made-up paths and methods are one `unknown` label value, from any user, even one the
//! request's context cannot describe), counters are Prometheus counters named `_total`, and
//! the process reports its memory, CPU and open files.

mod common;

use std::collections::BTreeSet;

use common::*;
use grafana_plugin_sdk::pluginv2::CollectMetricsRequest;
use serde_json::json;

async fn metrics_text(p: &mut Plugin) -> String {
    let m = p
        .diagnostics
        .collect_metrics(CollectMetricsRequest {
            plugin_context: None,
        })
        .await
        .expect("metrics")
        .into_inner();
    String::from_utf8(m.metrics.expect("payload").prometheus).expect("utf8")
}

/// The series of a metrics text: each sample line without its value.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_string()))
        .collect()
}

/// One made-up request: a path and method no route has, as the attack sent them.
fn made_up(i: usize) -> (String, String) {
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "BREW", "get", "OPTIONS",
    ];
    let method = format!(
        "{}{}",
        methods[i % methods.len()],
        if i.is_multiple_of(5) {
            i.to_string()
        } else {
            String::new()
        }
    );
    let path = match i % 6 {
        0 => format!("nope-{i}"),
        1 => format!("teams/{i}/extra/{i}"),
        2 => format!("events/{i}/../../etc/passwd"),
        3 => format!("{}?x={i}", "a/".repeat(i % 40 + 1)),
        4 => format!("targets/{i}/refreshes"),
        _ => format!("%00{i}/%ff"),
    };
    (method, path)
}

async fn attack(p: &mut Plugin, range: std::ops::Range<usize>) {
    for i in range {
        let (method, path) = made_up(i);
        let ctx = match i % 4 {
            0 => p.ctx(1, Some(("nobody", "None"))),
            1 => p.ctx(1, Some(("viewer", "Viewer"))),
            2 => p.ctx(1, None),
            _ => {
                // A context the plugin cannot read (jsonData that is not JSON).
                let mut c = p.admin(1);
                if let Some(ds) = c.data_source_instance_settings.as_mut() {
                    ds.json_data = b"{not json".to_vec();
                }
                c
            }
        };
        let (status, _, _) = p.call_raw(ctx, &method, &path, Vec::new()).await;
        assert!(status >= 400, "{method} {path} answered {status}");
    }
}

/// A plugin on a fresh store with one team.
async fn started_with_team(id: &str) -> (tempfile::TempDir, Plugin) {
    let (dir, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    p.ok(p.admin(1), "POST", "teams", Some(json!({"id": id})), 201)
        .await;
    (dir, p)
}

#[tokio::test]
async fn made_up_paths_and_methods_never_grow_the_metrics() {
    let (_d, mut p) = started_with_team("payments").await;
    attack(&mut p, 0..400).await;
    let before = metrics_text(&mut p).await;
    attack(&mut p, 400..4000).await;
    let after = metrics_text(&mut p).await;
    assert_eq!(
        series(&before),
        series(&after),
        "3,600 more made-up requests added no series"
    );
    assert!(after.len() < 64 * 1024, "{} bytes of metrics", after.len());
    for line in after
        .lines()
        .filter(|l| l.starts_with("maturity_requests_total"))
    {
        let name = line
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default();
        assert!(
            name == "unknown"
                || name == "check"
                || maturity::plugin::resource::ROUTES.contains(&name),
            "{line}"
        );
    }
    assert!(
        after.contains("maturity_requests_total{kind=\"resource\",name=\"unknown\"} 4000"),
        "{after}"
    );
}

#[tokio::test]
async fn counters_are_totals_and_the_process_reports_memory_cpu_and_open_files() {
    let (_d, mut p) = started_with_team("payments").await;
    let now = ms("2026-06-01T00:00:00Z");
    p.query(
        p.ctx(1, Some(("alice", "Viewer"))),
        &[("http_X-Dashboard-Uid", "slo-payments")],
        vec![query("A", "teams", json!({}), now - 1, now)],
    )
    .await;
    let mut text = String::new();
    for _ in 0..50 {
        text = metrics_text(&mut p).await;
        if text.contains("maturity_passive_views_written_total 1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for want in [
        "# TYPE maturity_passive_views_written_total counter",
        "maturity_passive_views_written_total 1",
        "# TYPE maturity_passive_views_dropped_total counter",
        "# TYPE maturity_requests_total counter",
        "# TYPE maturity_store_size_bytes gauge",
        "process_resident_memory_bytes ",
        "process_virtual_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        "process_max_fds ",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    assert!(
        !text.contains("maturity_passive_views_written "),
        "the old gauge name is gone"
    );
}

#[tokio::test]
async fn the_evaluation_cache_counts_hits_and_misses_and_a_write_misses_only_its_team() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    for id in ["payments", "search", "growth"] {
        p.ok(p.admin(1), "POST", "teams", Some(json!({"id": id})), 201)
            .await;
    }
    let counts = |text: &str| hits_and_misses(text, "maturity_evaluation_cache_total{", "");
    let now = ms("2026-06-01T00:00:00Z");
    async fn ask(p: &mut Plugin, at: i64) {
        let ctx = p.viewer(1);
        p.query(
            ctx,
            &[],
            vec![query("A", "maturity", json!({}), at - 1, at)],
        )
        .await;
    }
    ask(&mut p, now).await;
    assert_eq!(
        counts(&metrics_text(&mut p).await),
        (0, 3),
        "three teams computed"
    );
    ask(&mut p, now + 60_000).await;
    assert_eq!(
        counts(&metrics_text(&mut p).await),
        (3, 3),
        "a minute later: all cached"
    );
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"kind": "question", "team": "search", "text": "why?", "time": now})),
        201,
    )
    .await;
    ask(&mut p, now + 120_000).await;
    assert_eq!(
        counts(&metrics_text(&mut p).await),
        (5, 4),
        "only the team written to is evaluated again"
    );
}

#[tokio::test]
async fn review_times_and_decisions_are_kept_per_team_and_counted() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    for id in ["payments", "search"] {
        p.ok(p.admin(1), "POST", "teams", Some(json!({"id": id})), 201)
            .await;
    }
    let counts = |text: &str, query: &str| {
        hits_and_misses(
            text,
            "maturity_team_inputs_cache_total{",
            &format!("query=\"{query}\","),
        )
    };
    let now = ms("2026-06-01T00:00:00Z");
    async fn ask(p: &mut Plugin, at: i64) {
        let ctx = p.viewer(1);
        p.query(
            ctx,
            &[],
            vec![
                query("L", "reviewLapse", json!({}), at - 1, at),
                query("F", "followUpsOverdue", json!({}), at - 1, at),
            ],
        )
        .await;
    }
    ask(&mut p, now).await;
    let text = metrics_text(&mut p).await;
    assert_eq!(counts(&text, "reviewLapse"), (0, 2), "two teams read");
    assert_eq!(counts(&text, "followUps"), (0, 2), "two teams read");
    ask(&mut p, now + 60_000).await;
    let text = metrics_text(&mut p).await;
    assert_eq!(counts(&text, "reviewLapse"), (2, 2), "a minute later: kept");
    assert_eq!(counts(&text, "followUps"), (2, 2), "a minute later: kept");
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"kind": "review", "team": "search", "time": now})),
        201,
    )
    .await;
    ask(&mut p, now + 120_000).await;
    let text = metrics_text(&mut p).await;
    assert_eq!(
        counts(&text, "reviewLapse"),
        (3, 3),
        "only the team written to"
    );
    assert_eq!(
        counts(&text, "followUps"),
        (3, 3),
        "only the team written to"
    );
}

/// The `hit` and `miss` values of the series of `metric` (its name up to `{`) whose labels
/// start with `labels` (then `result="…"`).
fn hits_and_misses(text: &str, metric: &str, labels: &str) -> (u64, u64) {
    let value = |result: &str| {
        let series = format!("{metric}{labels}result=\"{result}\"}}");
        text.lines()
            .find(|l| l.starts_with(&series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (value("hit"), value("miss"))
}

#[tokio::test]
async fn the_memory_of_kept_evidence_is_reported_and_grows_with_the_writes_it_takes() {
    let (_d, mut p) = started_with_team("payments").await;
    let kept_bytes = |text: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix("maturity_kept_evidence_bytes "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no maturity_kept_evidence_bytes in\n{text}"))
    };
    let now = ms("2026-06-01T00:00:00Z");
    async fn ask(p: &mut Plugin, at: i64) {
        let ctx = p.viewer(1);
        p.query(
            ctx,
            &[],
            vec![query("A", "maturity", json!({}), at - 1, at)],
        )
        .await;
    }
    async fn write(p: &mut Plugin, at: i64, text: &str) {
        let body = json!({"kind": "question", "team": "payments", "text": text, "time": at});
        p.ok(p.editor(1), "POST", "events", Some(body), 201).await;
    }
    ask(&mut p, now).await;
    assert_eq!(
        kept_bytes(&metrics_text(&mut p).await),
        0,
        "a team read once is not kept"
    );
    write(&mut p, now - 1_000, "why?").await;
    ask(&mut p, now).await;
    let kept = kept_bytes(&metrics_text(&mut p).await);
    assert!(kept > 0, "read again after a write: kept ({kept})");
    write(&mut p, now - 500, &"why again? ".repeat(20)).await;
    ask(&mut p, now).await;
    let grown = kept_bytes(&metrics_text(&mut p).await);
    assert!(
        grown > kept,
        "the write taken in counts ({kept} -> {grown})"
    );
}
