//! Issue 11, defect 6, through the running binaries: two plugin processes and the `maturity`
//! tool write to one store at once (as two Grafana replicas on a shared file, or the tool
//! beside a running plugin would). Transactions that read before they write used to fail
//! with "database is locked"; now every write waits for the lock and succeeds: 0 errors,
//! nothing acknowledged lost, `PRAGMA integrity_check` ok.
//!
//! Runs for `MATURITY_CONCURRENCY_SECS` seconds (default 30).

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use grafana_plugin_sdk::pluginv2::resource_client::ResourceClient;
use grafana_plugin_sdk::pluginv2::{CallResourceRequest, PluginContext};
use serde_json::{json, Value};
use tonic::transport::Channel;

/// What the writers were told was stored, and what failed.
#[derive(Default)]
struct Tally {
    events: BTreeSet<String>,
    actuals: BTreeSet<(String, i64)>,
    writes: usize,
    errors: Vec<String>,
}

async fn call(
    client: &mut ResourceClient<Channel>,
    ctx: &PluginContext,
    method: &str,
    path: &str,
    body: &Value,
) -> (i32, String) {
    let req = CallResourceRequest {
        plugin_context: Some(ctx.clone()),
        path: path.into(),
        method: method.into(),
        url: path.into(),
        headers: Default::default(),
        body: serde_json::to_vec(body).unwrap_or_default().into(),
    };
    let mut stream = match client.call_resource(req).await {
        Ok(r) => r.into_inner(),
        Err(e) => return (-1, e.to_string()),
    };
    let mut code = 0;
    let mut out = Vec::new();
    while let Ok(Some(msg)) = stream.message().await {
        if code == 0 {
            code = msg.code;
        }
        out.extend_from_slice(&msg.body);
    }
    (code, String::from_utf8_lossy(&out).into_owned())
}

/// One writer: replaces its team, adds actuals to its target, records events, reads the
/// ladder, until `stop`.
async fn writer(
    name: String,
    mut client: ResourceClient<Channel>,
    ctx: PluginContext,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) {
    let team = format!("team-{name}");
    let target = format!("target-{name}");
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let event_id = format!("{name}-e{n}");
        let steps: [(&str, String, Value); 4] = [
            (
                "PUT",
                format!("teams/{team}"),
                json!({"members": [format!("m{n}")], "dashboards": [format!("d-{name}")]}),
            ),
            (
                "POST",
                format!("targets/{target}/actuals"),
                json!({"time": n, "value": n as f64}),
            ),
            (
                "POST",
                "events".to_string(),
                json!({"id": event_id, "kind": "question", "team": team, "time": n}),
            ),
            ("GET", "maturity".to_string(), json!(null)),
        ];
        for (method, path, body) in steps {
            let (code, answer) = call(&mut client, &ctx, method, &path, &body).await;
            let mut t = tally.lock().expect("tally");
            t.writes += usize::from(method != "GET");
            if !(200..300).contains(&code) {
                t.errors
                    .push(format!("{name}: {method} {path} → {code} {answer}"));
                continue;
            }
            if path == "events" {
                t.events.insert(event_id.clone());
            } else if path.ends_with("/actuals") {
                t.actuals.insert((target.clone(), n));
            }
        }
    }
}

/// The `maturity` tool importing files of fresh teams and events into the same store.
fn tool_loop(
    db: std::path::PathBuf,
    dir: std::path::PathBuf,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) {
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let mut lines =
            vec![json!({"type": "team", "value": {"id": format!("tool-{round}")}}).to_string()];
        let ids: Vec<String> = (0..50).map(|i| format!("tool-{round}-e{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            lines.push(
                json!({"type": "event", "value": {"id": id, "kind": "note", "team": format!("tool-{round}"),
                        "time": i, "user": "cli"}})
                .to_string(),
            );
        }
        let file = dir.join(format!("import-{round}.ndjson"));
        std::fs::write(&file, lines.join("\n")).expect("write import");
        let out = std::process::Command::new(cli_bin())
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&file)
            .env_remove("GF_PLUGIN_DATABASE_PATH")
            .env_remove("GF_PATHS_DATA")
            .output()
            .expect("run maturity");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut t = tally.lock().expect("tally");
        t.writes += 1;
        if out.status.success() && text.contains("51 created, 0 skipped, 0 rejected") {
            t.events.extend(ids);
        } else {
            t.errors.push(format!(
                "maturity import round {round}: {:?} {text}",
                out.status.code()
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_plugins_and_the_tool_write_to_one_store_without_a_single_error() {
    let secs: u64 = std::env::var("MATURITY_CONCURRENCY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let (dir, db) = temp_store();
    let mut a = Plugin::start(&db, &[]).await;
    let b = Plugin::start(&db, &[]).await;
    let writers: Vec<String> = ["a1", "a2", "a3", "b1", "b2", "b3"]
        .map(String::from)
        .to_vec();
    for w in &writers {
        a.ok(
            a.admin(1),
            "POST",
            "teams",
            Some(json!({"id": format!("team-{w}")})),
            201,
        )
        .await;
        a.ok(
            a.editor(1),
            "POST",
            "targets",
            Some(
                json!({"id": format!("target-{w}"), "team": format!("team-{w}"), "name": w,
                        "direction": "increase"}),
            ),
            201,
        )
        .await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = Vec::new();
    for w in &writers {
        let p = if w.starts_with('a') { &a } else { &b };
        tasks.push(tokio::spawn(writer(
            w.clone(),
            p.resource.clone(),
            p.editor(1),
            stop.clone(),
            tally.clone(),
        )));
    }
    let tool = {
        let (db, dir, stop, tally) = (
            db.clone(),
            dir.path().to_path_buf(),
            stop.clone(),
            tally.clone(),
        );
        std::thread::spawn(move || tool_loop(db, dir, stop, tally))
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("writer");
    }
    tool.join().expect("tool");
    let tally = std::mem::take(&mut *tally.lock().expect("tally"));
    assert!(
        tally.errors.is_empty(),
        "{} of {} writes failed, first: {:?}",
        tally.errors.len(),
        tally.writes,
        tally.errors.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        tally.writes > 100,
        "the writers wrote ({} writes)",
        tally.writes
    );
    drop(b);
    a.kill();
    let conn = rusqlite::Connection::open(&db).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    let mut stored = BTreeSet::new();
    let mut stmt = conn
        .prepare("SELECT id FROM events WHERE org_id = 1")
        .expect("prepare");
    for id in stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("query")
    {
        stored.insert(id.expect("id"));
    }
    let lost: Vec<&String> = tally.events.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let mut stmt = conn
        .prepare("SELECT target_id, time FROM actuals WHERE org_id = 1")
        .expect("prepare");
    let actuals: BTreeSet<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    assert!(
        tally.actuals.is_subset(&actuals),
        "acknowledged actuals lost"
    );
    println!(
        "{} writes in {secs} s by two plugins and the tool: {} events, {} actuals, 0 errors",
        tally.writes,
        tally.events.len(),
        tally.actuals.len()
    );
}
