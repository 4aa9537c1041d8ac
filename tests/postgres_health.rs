//! Issue 14, through the running binary: CheckHealth on PostgreSQL storage names the server,
//! the database and the schema version when all is well, and otherwise what is wrong in words
//! an admin can act on (the server unreachable, the database missing, the role unknown) — the
//! password of the URL never in what it says.
//!
//! Needs `scripts/with-postgres` (skipped with a line without it, unless
//! `MATURITY_REQUIRE_POSTGRES=1`), except the unreachable server, which needs no server.

mod common;

use common::*;
use grafana_plugin_sdk::pluginv2::CheckHealthResponse;
use serde_json::{json, Value};

const HEALTH_OK: i32 = 1;
const HEALTH_ERROR: i32 = 2;
const PASSWORD: &str = "s3cret-Pw0rd";

/// `url` with `PASSWORD` as the password of its user (trust authentication ignores it).
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = rest.split_once('@').expect("a user in the URL");
    let user = user.split(':').next().unwrap_or(user);
    format!("{scheme}://{user}:{PASSWORD}@{host}")
}

/// `url` naming another database.
fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    format!("{base}/{database}")
}

/// host:port of a URL.
fn server_of(url: &str) -> String {
    let rest = url
        .split_once('@')
        .map(|(_, r)| r)
        .expect("a user in the URL");
    rest.split('/').next().unwrap_or(rest).to_string()
}

async fn health_on(url: &str) -> CheckHealthResponse {
    let (_dir, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    p.use_postgres(url);
    let health = p.health(p.admin(1)).await;
    println!("CheckHealth on {}: {}", server_of(url), health.message);
    assert!(
        !health.message.contains(PASSWORD) && !health.message.contains(url),
        "CheckHealth shows the URL or its password: {}",
        health.message
    );
    let details = String::from_utf8_lossy(&health.json_details).into_owned();
    assert!(
        !details.contains(PASSWORD),
        "CheckHealth's details show the password: {details}"
    );
    health
}

#[tokio::test]
async fn check_health_on_postgresql_names_the_server_the_database_and_the_schema_version() {
    let Some(url) = fresh_postgres("health").await else {
        return;
    };
    let database = url.rsplit('/').next().expect("database").to_string();
    let url = with_password(&url);
    let (_dir, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    p.use_postgres(&url);
    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "payments"})),
        201,
    )
    .await;
    let health = p.health(p.admin(1)).await;
    println!("CheckHealth: {}", health.message);
    assert_eq!(health.status, HEALTH_OK, "{}", health.message);
    let m = &health.message;
    assert!(m.contains(&server_of(&url)), "names the server: {m}");
    assert!(m.contains(&database), "names the database: {m}");
    let details: Value = serde_json::from_slice(&health.json_details).expect("details are JSON");
    let version = details["schemaVersion"]
        .as_i64()
        .unwrap_or_else(|| panic!("a schema version in {details}"));
    assert!(version >= 1, "schema version {version}");
    assert!(
        m.contains(&format!("schema version {version}")),
        "names the schema version: {m}"
    );
    assert_eq!(details["teams"], 1, "counts this org's data: {details}");
    assert!(!m.contains(PASSWORD), "the password is not shown: {m}");
    assert!(
        !String::from_utf8_lossy(&health.json_details).contains(PASSWORD),
        "the password is not in the details"
    );
}

#[tokio::test]
async fn check_health_says_when_the_postgresql_server_cannot_be_reached() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://maturity:{PASSWORD}@127.0.0.1:{port}/maturity");
    let health = health_on(&url).await;
    assert_eq!(health.status, HEALTH_ERROR, "{}", health.message);
    let m = health.message.to_lowercase();
    assert!(
        m.contains(&format!("127.0.0.1:{port}")),
        "names the server it tried: {}",
        health.message
    );
    assert!(
        [
            "unreachable",
            "cannot reach",
            "could not connect",
            "cannot connect",
            "refused"
        ]
        .iter()
        .any(|w| m.contains(w)),
        "says the server cannot be reached: {}",
        health.message
    );
}

#[tokio::test]
async fn check_health_says_when_the_postgresql_database_does_not_exist() {
    let Some(server) = common::postgres::server_url() else {
        return;
    };
    let url = with_password(&with_database(&server, "maturity_no_such_db"));
    let health = health_on(&url).await;
    assert_eq!(health.status, HEALTH_ERROR, "{}", health.message);
    let m = health.message.to_lowercase();
    assert!(
        m.contains("maturity_no_such_db"),
        "names the database: {}",
        health.message
    );
    assert!(
        ["does not exist", "missing", "no database", "not exist"]
            .iter()
            .any(|w| m.contains(w)),
        "says it does not exist: {}",
        health.message
    );
}

#[tokio::test]
async fn check_health_says_when_the_postgresql_role_is_unknown() {
    let Some(url) = fresh_postgres("health_role").await else {
        return;
    };
    let (_, rest) = url.split_once('@').expect("a user in the URL");
    let url = format!("postgres://no_such_role:{PASSWORD}@{rest}");
    let health = health_on(&url).await;
    assert_eq!(health.status, HEALTH_ERROR, "{}", health.message);
    let m = health.message.to_lowercase();
    assert!(
        m.contains("no_such_role"),
        "names the role: {}",
        health.message
    );
    assert!(
        ["authentication", "role", "user", "password"]
            .iter()
            .any(|w| m.contains(w)),
        "says it is about the login: {}",
        health.message
    );
}
