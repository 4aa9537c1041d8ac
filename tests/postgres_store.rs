//! What only the PostgreSQL store promises (issue 14), beside the contract both stores keep
//! (tests/store_contract.rs): migrations run once when processes start together, a newer
//! schema is refused, replicas sharing a database neither duplicate views nor lose a taken
//! id's conflict, errors say what to fix and never show the password, and TLS verifies the
//! server's certificate.
//!
//! Needs `scripts/with-postgres` (each test is skipped with a line without it, unless
//! `MATURITY_REQUIRE_POSTGRES=1`); the unreachable-server test needs no server.

#[path = "common/postgres.rs"]
mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

use maturity::model::{Event, EventKind, PendingView, Source, Team};
use maturity::settings::Secret;
use maturity::settings::Storage;
use maturity::store::postgres::{PostgresStore, SCHEMA_VERSION};
use maturity::store::{open_store, Store, StoreError, SyncStore};
use serde_json::Map;

const PASSWORD: &str = "Pg-s3cret-w0rd";

fn open(url: &str) -> Result<PostgresStore, StoreError> {
    PostgresStore::open(&Secret::new(url))
}

fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("admin connection")
}

/// `url` with `user:PASSWORD` as its login.
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (_, host) = rest.split_once('@').expect("a user in the URL");
    format!("{scheme}://{user}:{PASSWORD}@{host}")
}

fn database_of(url: &str) -> String {
    url.rsplit('/').next().expect("a database").to_string()
}

fn server_of(url: &str) -> String {
    let (_, rest) = url.split_once('@').expect("a user in the URL");
    rest.split('/').next().expect("host:port").to_string()
}

/// Fails when `text` shows the password or the URL.
fn assert_secret_free(text: &str, url: &str) {
    assert!(!text.contains(PASSWORD), "the password shows: {text}");
    assert!(!text.contains(url), "the URL shows: {text}");
}

fn event(id: &str, time: i64) -> Event {
    Event {
        id: id.into(),
        kind: EventKind::Question,
        time,
        time_end: None,
        team: Some("pay".into()),
        dashboard_uid: None,
        panel_id: None,
        user: "alice".into(),
        text: "t".into(),
        tags: vec!["question".into()],
        data: Map::new(),
        source: Source::Api,
        created_at: 0,
        updated_at: 0,
    }
}

#[test]
fn migrations_run_once_when_eight_processes_open_one_database_at_once() {
    let Some(url) = pg::fresh_database("migrate_once") else {
        return;
    };
    let start = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let store = open(&url).expect("every opener succeeds");
                store.schema_version()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("opener"), SCHEMA_VERSION);
    }
    let rows = admin(&url)
        .query(
            "SELECT version FROM maturity.schema_version ORDER BY version",
            &[],
        )
        .expect("versions");
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        versions,
        (1..=SCHEMA_VERSION).collect::<Vec<_>>(),
        "each migration ran exactly once"
    );
}

#[test]
fn a_newer_schema_is_refused_naming_both_versions() {
    let Some(url) = pg::fresh_database("newer_schema") else {
        return;
    };
    let store = open(&url).expect("open");
    let newer = SCHEMA_VERSION + 1;
    admin(&url)
        .execute(
            "INSERT INTO maturity.schema_version (version) VALUES ($1)",
            &[&newer],
        )
        .expect("bump");
    let check = |err: StoreError| {
        assert!(matches!(err, StoreError::Unusable(_)), "{err:?}");
        let m = err.to_string();
        assert!(
            m.contains("newer")
                && m.contains(&newer.to_string())
                && m.contains(&format!("({SCHEMA_VERSION})")),
            "{m}"
        );
    };
    check(open(&url).expect_err("a newer schema is refused"));
    // A replica still running the older binary finds out at its next health check.
    check(
        store
            .check_health(std::time::Duration::from_secs(2))
            .expect_err("health refuses it too"),
    );
}

#[test]
fn a_foreign_schema_named_maturity_is_refused_and_left_alone() {
    let Some(url) = pg::fresh_database("foreign_schema") else {
        return;
    };
    admin(&url)
        .batch_execute("CREATE SCHEMA maturity; CREATE TABLE maturity.things (id int);")
        .expect("foreign schema");
    let err = open(&url).expect_err("refused");
    assert!(err.to_string().contains("another application"), "{err}");
    let n: i64 = admin(&url)
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'maturity'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(n, 1, "nothing was added to it");
}

#[test]
fn views_written_by_two_replicas_at_once_are_stored_once_per_session() {
    let Some(url) = pg::fresh_database("views_two_replicas") else {
        return;
    };
    let stores = [
        Arc::new(open(&url).expect("a")),
        Arc::new(open(&url).expect("b")),
    ];
    // 4 users × 5 dashboards × 6 buckets, 3 views in each bucket.
    let views: Vec<PendingView> = (0..4)
        .flat_map(|u| {
            (0..5).flat_map(move |d| {
                (0..18).map(move |i| PendingView {
                    org: 1,
                    user: format!("user{u}"),
                    dashboard_uid: format!("dash{d}"),
                    panel_id: Some(i),
                    time: i * 1000,
                    session_bucket: i / 3,
                })
            })
        })
        .collect();
    let sessions = 4 * 5 * 6;
    let start = Arc::new(Barrier::new(2));
    let handles: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(w, store)| {
            let (store, start, mut views) = (store.clone(), start.clone(), views.clone());
            std::thread::spawn(move || {
                // Each replica writes in its own order, in batches, as its recorder would.
                if w == 1 {
                    views.reverse();
                }
                start.wait();
                let mut n = 0;
                let mut written = 0;
                for batch in views.chunks(25) {
                    written += store
                        .insert_views(
                            batch,
                            &mut || {
                                n += 1;
                                format!("view-{w}-{n}")
                            },
                            0,
                        )
                        .expect("views are written without error")
                        .iter()
                        .map(|v| v.events.len())
                        .sum::<usize>();
                }
                written
            })
        })
        .collect();
    let written: usize = handles.into_iter().map(|h| h.join().expect("writer")).sum();
    assert_eq!(written, sessions, "the new views counted once in all");
    assert_eq!(stores[0].counts(1).expect("counts").events, sessions as u64);
    assert_eq!(stores[1].counts(1).expect("counts").events, sessions as u64);
}

#[test]
fn a_taken_id_is_a_conflict_naming_it_across_two_replicas() {
    let Some(url) = pg::fresh_database("conflict_two_replicas") else {
        return;
    };
    let a = Arc::new(open(&url).expect("a"));
    let b = Arc::new(open(&url).expect("b"));
    a.insert_events(1, &[event("e1", 5)]).expect("insert");
    let err = b
        .insert_events(1, &[event("e2", 6), event("e1", 7)])
        .expect_err("taken");
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("\"e1\"")),
        "{err:?}"
    );
    assert_eq!(b.counts(1).expect("counts").events, 1, "all or none");
    // Racing for the same ids: one replica wins each, the other gets the conflict naming it.
    for round in 0..40 {
        let start = Arc::new(Barrier::new(2));
        let id = format!("race-{round}");
        let handles: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|s| {
                let (start, id) = (start.clone(), id.clone());
                std::thread::spawn(move || {
                    start.wait();
                    s.insert_events(
                        1,
                        &[event(&format!("other-{round}-{:p}", &*s), 1), event(&id, 1)],
                    )
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        for r in results.into_iter().filter_map(Result::err) {
            assert!(
                matches!(&r, StoreError::Conflict(m) if m.contains(&format!("{id:?}"))),
                "round {round}: {r:?}"
            );
        }
    }
}

#[test]
fn imports_by_two_replicas_at_once_store_each_event_once() {
    let Some(url) = pg::fresh_database("imports_two_replicas") else {
        return;
    };
    let stores = [
        Arc::new(open(&url).expect("a")),
        Arc::new(open(&url).expect("b")),
    ];
    stores[0]
        .create_team(
            1,
            &Team {
                id: "pay".into(),
                name: "Pay".into(),
                dashboards: vec![],
                members: vec![],
                cadence_days: 7,
                created_at: 0,
            },
        )
        .expect("team");
    let upserts: Vec<Event> = (0..100)
        .map(|i| Event {
            source: Source::Grafana,
            ..event(&format!("grafana:{i}"), i)
        })
        .collect();
    let start = Arc::new(Barrier::new(2));
    let handles: Vec<_> = stores
        .iter()
        .map(|s| {
            let (s, start, upserts) = (s.clone(), start.clone(), upserts.clone());
            std::thread::spawn(move || {
                start.wait();
                s.write_imported(1, &upserts, &[]).expect("no error")
            })
        })
        .collect();
    let writes: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("importer"))
        .collect();
    assert_eq!(writes.iter().map(|w| w.inserted).sum::<usize>(), 100);
    assert_eq!(writes.iter().map(|w| w.updated).sum::<usize>(), 100);
    assert_eq!(
        stores[1]
            .imported_events(1, "grafana:", 0, 1000)
            .expect("read")
            .len(),
        100
    );
}

#[test]
fn debug_and_describe_never_show_the_url_or_password() {
    let Some(url) = pg::fresh_database("debug_secret") else {
        return;
    };
    let role = format!("debug_{}", database_of(&url));
    admin(&url)
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{PASSWORD}'"
        ))
        .expect("role");
    let with_password = as_user(&url, &role);
    let store = open(&with_password).expect("open with a password");
    let shown = format!(
        "{store:?} {} {}",
        store.describe(),
        store
            .check_health(std::time::Duration::from_secs(2))
            .expect("healthy")
    );
    assert_secret_free(&shown, &with_password);
    assert!(shown.contains(&server_of(&url)), "{shown}");
    assert!(shown.contains(&database_of(&url)), "{shown}");
    assert!(
        shown.contains(&format!("schema version {SCHEMA_VERSION}")),
        "{shown}"
    );
    let via_seam = open_store(&Storage::Postgres {
        url: Secret::new(with_password.clone()),
    })
    .expect("open_store");
    assert_secret_free(&format!("{:?}", via_seam.describe()), &with_password);
}

#[test]
fn an_unreachable_server_is_named_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://maturity:{PASSWORD}@127.0.0.1:{port}/maturity");
    let err = open(&url).expect_err("nobody listens");
    let m = err.to_string();
    assert!(matches!(err, StoreError::Unusable(_)), "{err:?}");
    assert!(m.contains(&format!("127.0.0.1:{port}")), "{m}");
    assert!(m.contains("cannot reach") && m.contains("refused"), "{m}");
    assert_secret_free(&m, &url);
}

#[test]
fn a_connection_string_that_does_not_parse_is_refused_without_repeating_it() {
    for url in [
        format!("postgres://maturity:{PASSWORD}@127.0.0.1:notaport/maturity"),
        format!("postgres://maturity:{PASSWORD}@127.0.0.1/maturity?frobnicate=1"),
        format!("host=127.0.0.1 user=maturity password='{PASSWORD}' sslmode=sometimes"),
        format!("user = maturity password = {PASSWORD} 'unterminated"),
    ] {
        let err = open(&url).expect_err("not a connection string");
        let m = err.to_string();
        assert!(m.contains("secureJsonData.postgresUrl"), "{m}");
        assert_secret_free(&m, &url);
    }
}

#[test]
fn a_missing_database_is_named() {
    let Some(server) = pg::server_url() else {
        return;
    };
    admin(&server)
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE maturity_missing LOGIN PASSWORD '{PASSWORD}';
             EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .expect("role");
    let base = server.rsplit_once('/').expect("database").0;
    let url = as_user(&format!("{base}/maturity_no_such_db"), "maturity_missing");
    let err = open(&url).expect_err("no such database");
    let m = err.to_string();
    assert!(
        m.contains("\"maturity_no_such_db\" does not exist") && m.contains("CREATE DATABASE"),
        "{m}"
    );
    assert_secret_free(&m, &url);
}

#[test]
fn missing_grants_are_named_with_the_grant_to_give() {
    let Some(url) = pg::fresh_database("grants") else {
        return;
    };
    let database = database_of(&url);
    let role = format!("limited_{database}");
    let mut owner = admin(&url);
    owner
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}';
             REVOKE CREATE ON DATABASE {database} FROM PUBLIC;"
        ))
        .expect("role");
    let limited = as_user(&url, &role);
    // A fresh database: the role may not create our schema.
    let err = open(&limited).expect_err("no CREATE on the database");
    let m = err.to_string();
    assert!(
        m.contains(&format!(
            "GRANT CREATE ON DATABASE \"{database}\" TO \"{role}\""
        )),
        "{m}"
    );
    assert_secret_free(&m, &limited);
    // An owner migrated: without USAGE on the schema the role cannot even read the version.
    drop(open(&url).expect("the owner migrates"));
    let err = open(&limited).expect_err("no USAGE on the schema");
    let m = err.to_string();
    assert!(m.contains("GRANT USAGE ON SCHEMA maturity"), "{m}");
    // With USAGE and the version readable it opens (nothing to migrate), and the health
    // check names the grants still missing.
    owner
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA maturity TO {role};
             GRANT SELECT ON maturity.schema_version TO {role};"
        ))
        .expect("grant");
    let store = open(&limited).expect("a current schema needs no DDL");
    let err = store
        .check_health(std::time::Duration::from_secs(2))
        .expect_err("tables not granted");
    let m = err.to_string();
    assert!(
        m.contains("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA maturity"),
        "{m}"
    );
    let err = store.list_teams(1).expect_err("no SELECT");
    assert!(err.to_string().contains("GRANT SELECT"), "{err}");
    owner
        .batch_execute(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA maturity TO {role}"
        ))
        .expect("grant");
    store
        .check_health(std::time::Duration::from_secs(2))
        .expect("healthy once granted");
    store.insert_events(1, &[event("e1", 1)]).expect("writes");
}

#[test]
fn sslmode_require_on_a_server_without_tls_says_so() {
    let Some(url) = pg::fresh_database("no_tls") else {
        return;
    };
    let err = open(&format!("{url}?sslmode=require")).expect_err("no TLS there");
    assert!(err.to_string().contains("does not accept TLS"), "{err}");
}

/// A second server with TLS on, its CA, and another CA that did not sign it.
struct TlsServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    url: String,
}

impl TlsServer {
    fn start() -> Option<TlsServer> {
        let bin = PathBuf::from(std::env::var_os("MATURITY_TEST_POSTGRES_BIN")?);
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let root = running_as_root();
        let openssl = |args: &[&str]| {
            let ok = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .expect("openssl")
                .status
                .success();
            assert!(ok, "openssl {args:?}");
        };
        for ca in ["ca", "wrong-ca"] {
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
                "-subj",
                &format!("/CN=maturity test {ca}"),
            ]);
        }
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            d.join("san.ext"),
            "subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n",
        )
        .expect("ext");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.crt",
            "-extfile",
            "san.ext",
        ]);
        let data = d.join("data");
        let as_pg = |program: &Path, args: &[&str]| {
            let mut cmd = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            };
            let out = cmd.args(args).output().expect("run");
            assert!(
                out.status.success(),
                "{program:?} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        if root {
            let ok = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(d)
                .status()
                .expect("chown")
                .success();
            assert!(ok, "chown");
        }
        as_pg(
            &bin.join("initdb"),
            &["-D", data.to_str()?, "-A", "trust", "-U", "postgres"],
        );
        for f in ["server.crt", "server.key"] {
            as_pg(
                Path::new("cp"),
                &[d.join(f).to_str()?, data.join(f).to_str()?],
            );
            as_pg(Path::new("chmod"), &["0600", data.join(f).to_str()?]);
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c ssl=on",
            d.display()
        );
        as_pg(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str()?,
                "-l",
                d.join("server.log").to_str()?,
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
        Some(TlsServer {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
        })
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = cmd
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// Whether we run as root (then the server runs as `postgres`: initdb refuses root).
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn tls_verifies_the_server_against_the_named_ca() {
    if pg::server_url().is_none() {
        return;
    }
    let Some(server) = TlsServer::start() else {
        eprintln!("TLS test skipped: no MATURITY_TEST_POSTGRES_BIN");
        return;
    };
    let ca = server.file("ca.pem");
    let url = format!("{}?sslmode=require&sslrootcert={ca}", server.url);
    let store = open(&url).expect("TLS with our CA");
    store
        .insert_events(1, &[event("over-tls", 1)])
        .expect("write");
    assert_eq!(store.get_event(1, "over-tls").expect("read").id, "over-tls");
    // Every connection the store holds is encrypted.
    let row = admin(&format!("{}?sslmode=disable", server.url))
        .query_one(
            "SELECT count(*), coalesce(bool_and(s.ssl), false) FROM pg_stat_ssl s
             JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'datadriven-maturity'",
            &[],
        )
        .expect("pg_stat_ssl");
    let (n, all_ssl): (i64, bool) = (row.get(0), row.get(1));
    assert!(n >= 1 && all_ssl, "{n} connections, all TLS: {all_ssl}");
    // libpq's verify-full is accepted (we always verify).
    drop(
        open(&format!(
            "{}?sslmode=verify-full&sslrootcert={ca}",
            server.url
        ))
        .expect("verify-full"),
    );
    // Another CA, or none (the system's CAs do not know ours): not trusted.
    for url in [
        format!(
            "{}?sslmode=require&sslrootcert={}",
            server.url,
            server.file("wrong-ca.pem")
        ),
        format!("{}?sslmode=require", server.url),
    ] {
        let err = open(&url).expect_err("untrusted");
        let m = err.to_string();
        assert!(
            m.contains("not trusted") && m.contains("sslrootcert"),
            "{m}"
        );
    }
    // A CA file that is not there is named.
    let err = open(&format!(
        "{}?sslmode=require&sslrootcert={}",
        server.url,
        server.file("absent.pem")
    ))
    .expect_err("no such file");
    assert!(err.to_string().contains("absent.pem"), "{err}");
}

#[test]
fn connections_the_server_closed_are_replaced_for_reads_writes_and_health() {
    // The pool does not ping a connection before each use (issue 15): a read, a write and
    // the health check on connections the server has since closed must still answer.
    let Some(url) = pg::fresh_database("closed_connections") else {
        return;
    };
    let store = open(&url).expect("open");
    let team = |id: &str| Team {
        id: id.into(),
        name: id.into(),
        dashboards: vec![],
        members: vec![],
        cadence_days: 7,
        created_at: 0,
    };
    store.create_team(1, &team("before")).expect("a write");
    assert_eq!(store.list_teams(1).expect("a read").len(), 1);
    let terminate = || {
        let mut a = admin(&url);
        let ended: i64 = a
            .query_one(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
                &[],
            )
            .expect("terminate")
            .get(0);
        assert!(ended >= 1, "the store's pooled connections were ended");
    };
    terminate();
    assert_eq!(store.list_teams(1).expect("a read after").len(), 1);
    terminate();
    store.create_team(1, &team("after")).expect("a write after");
    assert_eq!(store.list_teams(1).expect("read").len(), 2);
    terminate();
    store
        .check_health(std::time::Duration::from_secs(5))
        .expect("health after");
}
