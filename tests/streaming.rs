//! Issue 11, defect 4, through the running binary: large resource answers (an org's export,
//! a page of large events) are sent as a stream of parts of at most 1 MiB, which Grafana's
//! gRPC client — 4 MiB per message, its default — takes and joins.

mod common;

use std::collections::HashMap;

use common::*;
use grafana_plugin_sdk::pluginv2::resource_client::ResourceClient;
use grafana_plugin_sdk::pluginv2::{CallResourceRequest, CallResourceResponse, PluginContext};
use serde_json::{json, Value};
use tonic::transport::Channel;

const MIB: usize = 1 << 20;

/// One call with a client at gRPC's default limits (4 MiB per message), as Grafana's.
async fn parts(
    addr: &str,
    ctx: PluginContext,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Vec<CallResourceResponse> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = ResourceClient::new(channel);
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let req = CallResourceRequest {
        plugin_context: Some(ctx),
        path: p.into(),
        method: method.into(),
        url: if q.is_empty() {
            p.into()
        } else {
            format!("{p}?{q}")
        },
        headers: HashMap::new(),
        body: body.into(),
    };
    let mut stream = client
        .call_resource(req)
        .await
        .expect("call_resource")
        .into_inner();
    let mut out = Vec::new();
    while let Some(msg) = stream.message().await.unwrap_or_else(|e| {
        panic!(
            "{method} {path}: the stream failed after {} parts: {e}",
            out.len()
        )
    }) {
        out.push(msg);
    }
    out
}

fn joined(parts: &[CallResourceResponse]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.body.iter().copied()).collect()
}

fn check_parts(what: &str, parts: &[CallResourceResponse], status: i32, content_type: &str) {
    assert!(!parts.is_empty(), "{what}: no answer");
    assert_eq!(
        parts[0].code, status,
        "{what}: the first part carries the status"
    );
    assert_eq!(
        parts[0]
            .headers
            .get("Content-Type")
            .map(|l| l.values.join(",")),
        Some(content_type.to_string()),
        "{what}: the first part carries the headers"
    );
    for (i, p) in parts.iter().enumerate() {
        assert!(
            p.body.len() <= MIB,
            "{what}: part {i} holds {} bytes",
            p.body.len()
        );
    }
}

#[tokio::test]
async fn large_answers_stream_in_parts_that_grafanas_client_takes() {
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
    // About 14,000 events of 1 KB of text each: an export of ~17 MB and a page of 5,000
    // events of ~6 MB, both past a gRPC message's 4 MiB.
    let text: String = "evidence ".repeat(110);
    let n = 14_000;
    for start in (0..n).step_by(700) {
        let batch: Vec<Value> = (start..(start + 700).min(n))
            .map(|i| json!({"id": format!("e{i:05}"), "kind": "note", "team": "payments", "time": i, "text": text}))
            .collect();
        p.ok(p.editor(1), "POST", "events", Some(json!(batch)), 201)
            .await;
    }
    let addr = p.addr.clone();

    let export = parts(&addr, p.admin(1), "GET", "export", Vec::new()).await;
    check_parts("GET /export", &export, 200, "application/x-ndjson");
    let body = joined(&export);
    assert!(body.len() > 4 * MIB, "the export is {} bytes", body.len());
    assert!(export.len() >= body.len() / MIB, "{} parts", export.len());
    let lines: Vec<Value> = std::str::from_utf8(&body)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), n + 1, "the team and every event");
    let times: Vec<i64> = lines[1..]
        .iter()
        .map(|l| l["value"]["time"].as_i64().expect("time"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events in time order"
    );

    let page = parts(&addr, p.viewer(1), "GET", "events?limit=5000", Vec::new()).await;
    check_parts("GET /events", &page, 200, "application/json");
    let events: Value = serde_json::from_slice(&joined(&page)).expect("json");
    assert_eq!(events.as_array().map(Vec::len), Some(5000));

    // The export goes back in whole (into another org).
    let imported = parts(&addr, p.admin(2), "POST", "import", body).await;
    check_parts("POST /import", &imported, 200, "application/json");
    let report: Value = serde_json::from_slice(&joined(&imported)).expect("json");
    assert_eq!(report["created"], n + 1, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");

    // Small answers stay one message; an empty export carries its status too.
    let small = parts(&addr, p.viewer(1), "GET", "teams", Vec::new()).await;
    assert_eq!(small.len(), 1);
    let empty = parts(&addr, p.admin(3), "GET", "export", Vec::new()).await;
    check_parts("an empty export", &empty, 200, "application/x-ndjson");
    assert!(joined(&empty).is_empty());
    let refused = parts(&addr, p.viewer(1), "GET", "export", Vec::new()).await;
    check_parts("an export by a Viewer", &refused, 403, "application/json");
}
