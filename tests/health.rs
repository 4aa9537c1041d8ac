//! Issue 11, defect 7, through the running binary: CheckHealth names the real cause of a
//! store that cannot work — a read-only file, a read-only mount, a full disk (each once
//! reported as "not an SQLite database"), damaged pages (once reported healthy) — in words
//! an admin can act on, and finds damage cheaply.
//!
//! The read-only mount and the full disk need a file system of their own: the tests mount a
//! small tmpfs when they may (as root), and say so and stop early when they may not.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use grafana_plugin_sdk::pluginv2::CheckHealthResponse;
use serde_json::json;

const HEALTH_OK: i32 = 1;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        if !is_root() {
            return None;
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| Mount(dir.to_path_buf()))
    }

    fn remount_read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "remount read-only");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn skip(why: &str) {
    eprintln!("skipped: {why} (needs root and a tmpfs mount)");
}

/// A store with a team and some events, the plugin stopped.
async fn make_store(db: &Path, events: usize) {
    let mut p = Plugin::start(db, &[]).await;
    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "payments"})),
        201,
    )
    .await;
    let text = "x".repeat(400);
    for chunk in (0..events).collect::<Vec<_>>().chunks(500) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|i| json!({"id": format!("e{i}"), "kind": "note", "team": "payments", "time": i, "text": text}))
            .collect();
        p.ok(p.editor(1), "POST", "events", Some(json!(batch)), 201)
            .await;
    }
    let status = p.shutdown().await;
    assert!(status.success());
}

fn assert_unhealthy(h: &CheckHealthResponse, cause: &str) {
    assert_ne!(h.status, HEALTH_OK, "must not be healthy: {}", h.message);
    assert!(
        h.message.contains(cause),
        "want {cause:?} in: {}",
        h.message
    );
    assert!(
        !h.message.contains("not an SQLite database"),
        "the wrong story: {}",
        h.message
    );
}

/// A write answers an error that does not blame the file's format either.
async fn a_write_fails_without_the_wrong_story(p: &mut Plugin) {
    let (status, body) = p
        .call(
            p.editor(1),
            "POST",
            "events",
            Some(json!({"kind": "note", "team": "payments"})),
        )
        .await;
    assert!(status >= 400, "a write answered {status} {body}");
    assert!(
        !body.to_string().contains("not an SQLite database"),
        "the wrong story: {body}"
    );
}

#[tokio::test]
async fn a_sound_store_is_healthy_and_says_its_integrity_was_checked() {
    let (_d, db) = temp_store();
    make_store(&db, 100).await;
    let mut p = Plugin::start(&db, &[]).await;
    let h = p.health(p.admin(1)).await;
    assert_eq!(h.status, HEALTH_OK, "{}", h.message);
    assert!(h.message.contains("integrity checked"), "{}", h.message);
}

#[tokio::test]
async fn health_names_a_store_file_the_plugin_may_not_write() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let db = dir.path().join("maturity.db");
    make_store(&db, 10).await;
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        let f = entry.expect("entry").path();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    }
    let mut cmd = Plugin::command();
    if is_root() {
        // Root writes read-only files anyway: run the plugin as the user Grafana would be.
        use std::os::unix::process::CommandExt;
        cmd.uid(65534).gid(65534);
    }
    let mut p = Plugin::start_command(&db, cmd).await;
    let h = p.health(p.admin(1)).await;
    assert_unhealthy(&h, "is read-only for the user the plugin runs as");
    a_write_fails_without_the_wrong_story(&mut p).await;
}

#[tokio::test]
async fn health_names_a_read_only_mount() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(mount) = Mount::tmpfs(dir.path(), "4m") else {
        return skip("read-only mount");
    };
    let db = dir.path().join("maturity.db");
    make_store(&db, 10).await;
    mount.remount_read_only();
    let mut p = Plugin::start(&db, &[]).await;
    let h = p.health(p.admin(1)).await;
    assert_unhealthy(&h, "read-only file system");
    a_write_fails_without_the_wrong_story(&mut p).await;
    // A new store on the same mount: the same cause.
    p.json_data = json!({"databasePath": dir.path().join("new.db")});
    p.updated_ms += 1;
    let h = p.health(p.admin(1)).await;
    assert_unhealthy(&h, "read-only file system");
}

#[tokio::test]
async fn health_names_a_full_disk_and_recovers_when_space_is_freed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(_mount) = Mount::tmpfs(dir.path(), "2m") else {
        return skip("full disk");
    };
    let db = dir.path().join("maturity.db");
    make_store(&db, 10).await;
    let fill = dir.path().join("fill");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&fill).expect("fill");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    let mut p = Plugin::start(&db, &[]).await;
    let h = p.health(p.admin(1)).await;
    assert_unhealthy(&h, "is full");
    a_write_fails_without_the_wrong_story(&mut p).await;
    std::fs::remove_file(&fill).expect("free");
    // The same datasource, asked again once space is back.
    p.updated_ms += 1;
    let h = p.health(p.admin(1)).await;
    assert_eq!(h.status, HEALTH_OK, "{}", h.message);
}

#[tokio::test]
async fn health_finds_damaged_pages_that_reads_would_trip_over() {
    let (_d, db) = temp_store();
    make_store(&db, 400).await;
    {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
    }
    // Scribble over pages in the middle of the file (the events' pages), as a failing disk
    // or a copy taken mid-write would.
    let mut bytes = std::fs::read(&db).expect("read");
    let page = 4096;
    let pages = bytes.len() / page;
    assert!(pages > 20, "a store of {pages} pages");
    for p in pages / 3..pages / 3 + 3 {
        for b in &mut bytes[p * page + 100..(p + 1) * page - 100] {
            *b = 0xA5;
        }
    }
    std::fs::write(&db, &bytes).expect("write");
    let mut p = Plugin::start(&db, &[]).await;
    let h = p.health(p.admin(1)).await;
    assert_unhealthy(&h, "damaged");
    assert!(h.message.contains("backup"), "what to do: {}", h.message);
}
