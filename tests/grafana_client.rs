//! The Grafana client (issue 12) against a local HTTP server that answers as Grafana does:
//! `/api/ds/query` bodies written by the Go SDK's own JSON marshalling (tests/fixtures), the
//! two shapes of dashboard versions, annotations paged by time, and the failures a client
//! meets — 401, 403, 500, an answer slower than the timeout, nobody listening. Every error
//! says whose fault it is and none carries the token.

mod fake_grafana;

use std::time::{Duration, Instant};

use fake_grafana::{fixture, FakeGrafana, VersionsShape};
use maturity::grafana::dsquery::{last_value, mean, LiveQuery};
use maturity::grafana::{Fault, GrafanaClient, GrafanaConfig, GrafanaError};
use maturity::settings::Secret;
use serde_json::json;

const TOKEN: &str = "glsa_client_test_0123456789_secret";

fn client(url: &str) -> GrafanaClient {
    let mut c = GrafanaConfig::new(url, Secret::new(TOKEN));
    c.timeout = Duration::from_millis(500);
    c.retries = 2;
    c.backoff = Duration::from_millis(20);
    GrafanaClient::new(c).expect("client")
}

fn live(expr: &str) -> LiveQuery {
    LiveQuery::from_json(&json!({"datasourceUid": "prom", "model": {"expr": expr}}))
        .expect("shape")
        .expect("valid")
}

fn no_token_in(e: &GrafanaError) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn go_sdk_answers_reduce_to_the_last_value_of_the_first_numeric_field() {
    let g = FakeGrafana::start(TOKEN).await;
    let c = client(&g.url);
    for (name, last, avg) in [
        ("timeseries", 8.5, (9.1 + 8.8 + 8.5) / 3.0),
        ("int-table", 7.0, 5.0),
        ("multi-frame", 5.0, 4.5),
        ("special-floats", 1.25, 1.25),
        ("mean-2.1", 2.2, 2.1),
        ("mean-2.35", 2.4, 2.35),
    ] {
        let n = c
            .query_numbers(&live(&format!("fixture:{name}")), 1, 2)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(last_value(&n.values), Some(last), "{name}: {n:?}");
        assert!(
            (mean(&n.values).unwrap_or(f64::NAN) - avg).abs() < 1e-9,
            "{name}: {n:?}"
        );
    }
    // What Grafana was asked: the panel's model with refId and datasource, and the range.
    let asked = g.requests_to("/api/ds/query").remove(0);
    assert_eq!(asked.method, "POST");
    assert_eq!(asked.authorization, format!("Bearer {TOKEN}"));
    assert_eq!(
        asked.body,
        json!({"queries": [{"expr": "fixture:timeseries", "refId": "A", "datasource": {"uid": "prom"}}],
               "from": "1", "to": "2"})
    );
}

#[tokio::test]
async fn answers_without_a_usable_number_are_typed_query_faults() {
    let g = FakeGrafana::start(TOKEN).await;
    let c = client(&g.url);
    let err = |name: &'static str| {
        let c = c.clone();
        async move {
            c.query_numbers(&live(&format!("fixture:{name}")), 1, 2)
                .await
                .expect_err(name)
        }
    };
    let e = err("error").await;
    assert!(
        matches!(&e, GrafanaError::Query { status: Some(400), message } if message.contains("parse error")),
        "{e:?}"
    );
    assert_eq!(e.fault(), Fault::Query);
    assert!(matches!(err("empty").await, GrafanaError::NoData { .. }));
    assert!(matches!(
        err("no-frames").await,
        GrafanaError::NoData { .. }
    ));
    let e = err("strings-only").await;
    assert!(
        matches!(&e, GrafanaError::NotNumeric { detail } if detail.contains("line (string)")),
        "{e:?}"
    );
    assert_eq!(e.fault(), Fault::Query);
    // Not the SDK's shape at all.
    g.on_query(|_| (200, r#"{"data": []}"#.into()));
    let e = c.query_numbers(&live("x"), 1, 2).await.expect_err("shape");
    assert!(matches!(e, GrafanaError::Unexpected { .. }), "{e:?}");
    assert_eq!(e.fault(), Fault::Grafana);
    g.on_query(|_| (200, "<html>proxy error</html>".into()));
    let e = c.query_numbers(&live("x"), 1, 2).await.expect_err("html");
    assert!(e.to_string().contains("not JSON"), "{e}");
}

#[tokio::test]
async fn a_wrong_token_a_missing_permission_and_server_errors_say_whose_fault_they_are() {
    let g = FakeGrafana::start(TOKEN).await;
    let c = client(&g.url);
    // 401: the token.
    g.set_token("glsa_another_token");
    let e = c.annotations(0, 10, &["decision"]).await.expect_err("401");
    assert!(matches!(e, GrafanaError::TokenRejected { .. }), "{e:?}");
    assert_eq!(e.fault(), Fault::Token);
    assert!(e.to_string().contains("wrong, expired or revoked"), "{e}");
    no_token_in(&e);
    assert_eq!(g.requests().len(), 1, "a rejected token is not retried");
    g.set_token(TOKEN);
    // 403: the token's permissions, naming what was refused.
    g.fail("/api/dashboards/uid/", 403, 1);
    let e = c.dashboard_versions("slo", 0).await.expect_err("403");
    assert_eq!(e.fault(), Fault::Token);
    assert!(
        e.to_string().contains("may not read dashboard versions"),
        "{e}"
    );
    // 500 twice then an answer: retried with backoff, and the answer wins.
    g.forget_requests();
    g.fail("/api/annotations", 500, 2);
    let listing = c.annotations(0, 10, &["decision"]).await.expect("retried");
    assert!(listing.complete);
    assert_eq!(g.requests_to("/api/annotations").len(), 3);
    // 500 every time: Grafana's fault after 1 + retries attempts.
    g.forget_requests();
    g.fail("/api/annotations", 500, 10);
    let e = c.annotations(0, 10, &["decision"]).await.expect_err("500");
    assert!(
        matches!(e, GrafanaError::Server { status: 500, .. }),
        "{e:?}"
    );
    assert_eq!(e.fault(), Fault::Grafana);
    assert_eq!(g.requests_to("/api/annotations").len(), 3);
    no_token_in(&e);
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_network_fault_within_bounded_time() {
    let g = FakeGrafana::start(TOKEN).await;
    let c = client(&g.url);
    g.slow("/api/ds/query", Duration::from_secs(3));
    let started = Instant::now();
    let e = c
        .query_numbers(&live("fixture:timeseries"), 1, 2)
        .await
        .expect_err("timeout");
    let took = started.elapsed();
    assert!(matches!(e, GrafanaError::TimedOut { .. }), "{e:?}");
    assert_eq!(e.fault(), Fault::Network);
    assert!(e.to_string().contains("within 500 ms"), "{e}");
    // Three attempts of 500 ms and two short waits, never the server's 3 s each.
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert_eq!(g.requests_to("/api/ds/query").len(), 3);
    no_token_in(&e);
    // Nobody listening: unreachable.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let e = client(&dead).permissions().await.expect_err("unreachable");
    assert!(matches!(e, GrafanaError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.fault(), Fault::Network);
    no_token_in(&e);
    // No token: said before any request.
    let c = GrafanaClient::new(GrafanaConfig::new(&g.url, Secret::default())).expect("client");
    let e = c.permissions().await.expect_err("no token");
    assert_eq!(e, GrafanaError::NoToken);
}

#[tokio::test]
async fn annotations_are_read_page_by_page_by_time_each_once() {
    let g = FakeGrafana::start(TOKEN).await;
    let mut cfg = GrafanaConfig::new(&g.url, Secret::new(TOKEN));
    cfg.page_size = 2;
    let c = GrafanaClient::new(cfg).expect("client");
    let mut ids = Vec::new();
    for (t, tags) in [
        (100, vec!["decision"]),
        (200, vec!["review"]),
        (300, vec!["question"]),
        (300, vec!["outcome"]),
        (300, vec!["metric-change"]),
        (400, vec!["unrelated"]),
        (500, vec!["decision"]),
        (9_000, vec!["decision"]),
    ] {
        ids.push(g.annotate(Some("slo"), t, "x", &tags, "alice"));
    }
    let kinds = ["review", "decision", "question", "outcome", "metric-change"];
    let listing = c.annotations(0, 1_000, &kinds).await.expect("listing");
    assert!(listing.complete);
    let mut got: Vec<i64> = listing.annotations.iter().map(|a| a.id).collect();
    got.sort_unstable();
    let mut want: Vec<i64> = vec![ids[0], ids[1], ids[2], ids[3], ids[4], ids[6]];
    want.sort_unstable();
    assert_eq!(got, want, "tagged, inside the window, each once");
    // Three annotations share t=300 with pages of 2: the page is widened, nothing is lost.
    assert!(listing.pages >= 4, "{listing:?}");
    let first = &g.requests_to("/api/annotations")[0];
    assert_eq!(first.param("type"), Some("annotation"));
    assert_eq!(first.param("matchAny"), Some("true"));
    assert_eq!(first.param("limit"), Some("2"));
    // A listing that stops at max_pages says it is incomplete.
    let mut cfg = GrafanaConfig::new(&g.url, Secret::new(TOKEN));
    cfg.page_size = 1;
    cfg.max_pages = 2;
    let short = GrafanaClient::new(cfg)
        .expect("client")
        .annotations(0, 1_000, &kinds)
        .await
        .expect("listing");
    assert!(!short.complete);
    assert_eq!(short.pages, 2);
}

#[tokio::test]
async fn dashboard_versions_read_in_both_of_grafanas_shapes_and_pages() {
    let g = FakeGrafana::start(TOKEN).await;
    let c = client(&g.url);
    for i in 0..250 {
        g.save_dashboard(
            "slo",
            1_000_000 + i * 1000,
            &format!("save {}", i + 1),
            "bob",
        );
    }
    for shape in [VersionsShape::List, VersionsShape::Object] {
        g.set_versions_shape(shape);
        g.forget_requests();
        let all = c.dashboard_versions("slo", 0).await.expect("versions");
        assert_eq!(all.len(), 250, "{shape:?}");
        assert_eq!(all[0].version, 250);
        assert_eq!(all[0].message, "save 250");
        assert_eq!(all[0].created_by, "bob");
        assert_eq!(all[249].created, 1_000_000);
        assert_eq!(
            g.requests_to("/api/dashboards").len(),
            3,
            "{shape:?}: pages of 100"
        );
        // Only what is newer than the cursor, in one page.
        g.forget_requests();
        let newer = c.dashboard_versions("slo", 245).await.expect("newer");
        assert_eq!(
            newer.iter().map(|v| v.version).collect::<Vec<_>>(),
            [250, 249, 248, 247, 246]
        );
        assert_eq!(g.requests_to("/api/dashboards").len(), 1);
    }
    g.remove_dashboard("gone");
    let e = c.dashboard_versions("gone", 0).await.expect_err("404");
    assert!(matches!(e, GrafanaError::NotFound { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Grafana has no dashboard gone (404 on api/dashboards/uid/gone/versions)"
    );
}

#[test]
fn every_fixture_was_written_by_the_go_sdk_generator() {
    // The generator (tests/e2e/cmd/dsquery-fixtures) writes exactly these files.
    let mut names: Vec<String> = std::fs::read_dir(fake_grafana::fixtures_dir())
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "empty.json",
            "error.json",
            "int-table.json",
            "mean-2.1.json",
            "mean-2.35.json",
            "multi-frame.json",
            "no-frames.json",
            "special-floats.json",
            "strings-only.json",
            "timeseries.json"
        ]
    );
    assert_eq!(fixture("error").0, 400);
    assert_eq!(fixture("timeseries").0, 200);
}
