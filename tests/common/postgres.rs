//! A fresh PostgreSQL database per test, on the server `scripts/with-postgres` started
//! (`MATURITY_TEST_POSTGRES_URL`). Without that server the PostgreSQL half of a test is
//! skipped with a line, unless `MATURITY_REQUIRE_POSTGRES=1` (scripts/test sets it) makes the
//! absence a failure.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The server's superuser URL, or `None` (after saying so) when no server was started.
pub fn server_url() -> Option<String> {
    match std::env::var("MATURITY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("MATURITY_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MATURITY_REQUIRE_POSTGRES=1 but no MATURITY_TEST_POSTGRES_URL: run under scripts/with-postgres"
            );
            eprintln!("PostgreSQL half skipped: no MATURITY_TEST_POSTGRES_URL (run under scripts/with-postgres)");
            None
        }
    }
}

/// Creates an empty database named after `hint` (plus the process id and a counter, so
/// parallel tests and test binaries never share one) and returns its URL.
pub fn fresh_database(hint: &str) -> Option<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = server_url()?;
    let clean: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let name = format!(
        "t_{clean}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(&server, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
    Some(format!("{base}/{name}"))
}
