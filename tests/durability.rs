//! Durability through the running binary: what was acknowledged survives SIGKILL at random
//! points and restarts, batches are never half written, and a stop the way Grafana stops a
//! plugin writes the passive views still pending.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use grafana_plugin_sdk::pluginv2::CallResourceRequest;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

#[tokio::test]
async fn written_data_survives_a_restart() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "payments", "dashboards": ["d"]})),
        201,
    )
    .await;
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"id": "e1", "kind": "note", "team": "payments", "text": "kept"})),
        201,
    )
    .await;
    p.ok(p.editor(1), "POST", "targets", Some(json!({"id": "t1", "team": "payments", "name": "n", "direction": "increase", "actuals": [{"time": 1, "value": 2}]})), 201).await;
    let status = p.shutdown().await;
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
    let mut p = Plugin::start(&db, &[]).await;
    assert_eq!(
        p.ok(p.viewer(1), "GET", "events/e1", None, 200).await["text"],
        "kept"
    );
    assert_eq!(
        p.ok(p.viewer(1), "GET", "targets/t1", None, 200).await["actuals"][0]["value"],
        2.0
    );
    assert_eq!(
        p.ok(p.viewer(1), "GET", "teams", None, 200)
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

/// Posts one event or a batch; true when the plugin acknowledged it.
async fn post(
    client: &mut grafana_plugin_sdk::pluginv2::resource_client::ResourceClient<
        tonic::transport::Channel,
    >,
    ctx: grafana_plugin_sdk::pluginv2::PluginContext,
    body: &Value,
) -> bool {
    let req = CallResourceRequest {
        plugin_context: Some(ctx),
        path: "events".into(),
        method: "POST".into(),
        url: "events".into(),
        headers: Default::default(),
        body: serde_json::to_vec(body).unwrap_or_default().into(),
    };
    let Ok(resp) = client.call_resource(req).await else {
        return false;
    };
    let mut stream = resp.into_inner();
    match stream.message().await {
        Ok(Some(msg)) => msg.code == 201,
        _ => false,
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_at_random_points_and_batches_are_whole() {
    let (_d, db) = temp_store();
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261129);
    {
        let mut p = Plugin::start(&db, &[]).await;
        p.ok(
            p.admin(1),
            "POST",
            "teams",
            Some(json!({"id": "payments"})),
            201,
        )
        .await;
    }
    let mut acknowledged: Vec<String> = Vec::new();
    let mut batches: Vec<Vec<String>> = Vec::new();
    for round in 0..20 {
        let mut p = Plugin::start(&db, &[]).await;
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let sent_batches = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
        let writer = {
            let mut client = p.resource.clone();
            let ctx = p.editor(1);
            let acked = acked.clone();
            let sent_batches = sent_batches.clone();
            tokio::spawn(async move {
                for i in 0.. {
                    let (body, ids) = if i % 3 == 0 {
                        let ids: Vec<String> =
                            (0..25).map(|k| format!("r{round}-b{i}-{k}")).collect();
                        let body = Value::Array(
                            ids.iter()
                                .map(|id| json!({"id": id, "kind": "note", "team": "payments"}))
                                .collect(),
                        );
                        sent_batches.lock().expect("lock").push(ids.clone());
                        (body, ids)
                    } else {
                        let id = format!("r{round}-s{i}");
                        (
                            json!({"id": id, "kind": "question", "team": "payments"}),
                            vec![id],
                        )
                    };
                    if !post(&mut client, ctx.clone(), &body).await {
                        break;
                    }
                    acked.lock().expect("lock").extend(ids);
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(rng.gen_range(30..300))).await;
        p.kill();
        let _ = writer.await;
        acknowledged.extend(acked.lock().expect("lock").iter().cloned());
        batches.extend(sent_batches.lock().expect("lock").iter().cloned());
    }
    let mut p = Plugin::start(&db, &[]).await;
    let (status, ndjson, _) = p.call_raw(p.admin(1), "GET", "export", Vec::new()).await;
    assert_eq!(status, 200);
    let stored: std::collections::HashSet<String> = String::from_utf8_lossy(&ndjson)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["type"] == "event")
        .filter_map(|l| l["value"]["id"].as_str().map(String::from))
        .collect();
    assert!(
        acknowledged.len() > 100,
        "the test wrote enough to mean something: {}",
        acknowledged.len()
    );
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    for batch in &batches {
        let present = batch.iter().filter(|id| stored.contains(*id)).count();
        assert!(
            present == 0 || present == batch.len(),
            "half a batch: {present} of {} ({})",
            batch.len(),
            batch[0]
        );
    }
}

#[tokio::test]
async fn a_grafana_stop_writes_pending_passive_views_while_queries_keep_coming() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "payments", "dashboards": ["slo"]})),
        201,
    )
    .await;
    // Queries keep coming from ever new viewers; the stop arrives while views are pending.
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let querying = {
        let mut data = p.data.clone();
        let base = p.viewer(1);
        let answered = answered.clone();
        tokio::spawn(async move {
            for i in 0..100_000 {
                let user = format!("viewer{i}");
                let mut ctx = base.clone();
                if let Some(u) = ctx.user.as_mut() {
                    u.login = user.clone();
                }
                let req = grafana_plugin_sdk::pluginv2::QueryDataRequest {
                    plugin_context: Some(ctx),
                    headers: [("http_X-Dashboard-Uid".to_string(), "slo".to_string())]
                        .into_iter()
                        .collect(),
                    queries: vec![query("A", "teams", json!({}), 0, 1)],
                };
                match data.query_data(req).await {
                    Ok(r)
                        if r.get_ref()
                            .responses
                            .get("A")
                            .is_some_and(|a| a.error.is_empty()) =>
                    {
                        answered.lock().expect("lock").push(user)
                    }
                    _ => break,
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = p.shutdown().await;
    assert!(status.success(), "{status:?}");
    let _ = querying.await;
    let mut p = Plugin::start(&db, &[]).await;
    let views = p
        .ok(p.viewer(1), "GET", "events?kind=view&limit=5000", None, 200)
        .await;
    let users: std::collections::HashSet<String> = views
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v["user"].as_str().map(String::from))
        .collect();
    let answered = answered.lock().expect("lock").clone();
    assert!(
        answered.len() > 10,
        "queries were answered until the stop: {}",
        answered.len()
    );
    let lost: Vec<&String> = answered.iter().filter(|u| !users.contains(*u)).collect();
    assert!(
        lost.is_empty(),
        "views lost at the stop: {} of {}",
        lost.len(),
        answered.len()
    );
}
