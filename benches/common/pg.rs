//! The PostgreSQL side of the benchmarks (issue 14): the server `scripts/with-postgres`
//! started (`MATURITY_TEST_POSTGRES_URL`), a database per generated store, copies of a
//! database for runs that write, and the floors' reader (the blocking `postgres` client in
//! the bench process, on a blocking thread: never on a tokio worker).

use std::sync::{Arc, Mutex};

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

/// The superuser URL of the throwaway server (to database `postgres`).
pub fn server_url() -> String {
    match std::env::var("MATURITY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "MATURITY_BENCH_STORE=postgres needs MATURITY_TEST_POSTGRES_URL: run the bench \
             under scripts/with-postgres"
        ),
    }
}

/// The URL of database `name` on the same server.
pub fn database_url(name: &str) -> String {
    let server = server_url();
    let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
    format!("{base}/{name}")
}

/// A connection (blocking client: call from a plain thread or `spawn_blocking`).
pub fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| panic!("connect to PostgreSQL: {e}"))
}

/// Runs `f` on a plain thread and waits for it (the blocking client must not run on a
/// thread that drives tokio tasks, and `main` is one).
pub fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("blocking thread"))
}

/// Ends every other session on database `name` (a killed plugin's sessions linger a little).
fn disconnect_all(admin: &mut Client, name: &str) {
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .expect("terminate sessions");
}

/// Creates an empty database `name` (dropping one of that name first); answers its URL.
pub fn fresh_database(name: &str) -> String {
    blocking(|| {
        let mut admin = connect(&server_url());
        disconnect_all(&mut admin, name);
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
    });
    database_url(name)
}

/// Copies database `from` to a new database `to` (`CREATE DATABASE … TEMPLATE`, a file
/// copy on the server); answers the copy's URL.
pub fn copy_database(from: &str, to: &str) -> String {
    blocking(|| {
        let mut admin = connect(&server_url());
        disconnect_all(&mut admin, to);
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {to}"))
            .expect("drop database");
        for attempt in 0.. {
            disconnect_all(&mut admin, from);
            match admin.batch_execute(&format!("CREATE DATABASE {to} TEMPLATE {from}")) {
                Ok(()) => break,
                Err(e) if attempt < 20 => {
                    eprintln!("copy {from} → {to}: {e}; again");
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
                Err(e) => panic!("copy {from} → {to}: {e}"),
            }
        }
    });
    database_url(to)
}

/// The database name of a URL.
pub fn database_name(url: &str) -> String {
    url.rsplit('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Size of database `name` on disk (tables, indexes, TOAST), in bytes.
pub fn database_size(name: &str) -> u64 {
    blocking(|| {
        let mut admin = connect(&server_url());
        let row = admin
            .query_one("SELECT pg_database_size($1)", &[&name])
            .expect("database size");
        row.get::<_, i64>(0) as u64
    })
}

/// `VACUUM ANALYZE` of a freshly loaded database: the planner statistics and visibility
/// map autovacuum would have produced on a server that had been running for a while.
pub fn vacuum_analyze(url: &str) {
    blocking(|| {
        connect(url)
            .batch_execute("VACUUM ANALYZE")
            .expect("vacuum analyze");
    });
}

/// The server's version, for the report.
pub fn server_version() -> String {
    blocking(|| {
        connect(&server_url())
            .query_one("SHOW server_version", &[])
            .expect("server version")
            .get::<_, String>(0)
    })
}

/// Steps through every row a statement answers and looks at every column (text by length,
/// numbers by value; nothing kept): the least a reader with this client pays. The client
/// receives the whole answer before handing out rows, as the store's reads do.
pub fn read_rows(c: &mut Client, stmt: &Statement, args: &[&(dyn ToSql + Sync)]) -> usize {
    let rows = c.query(stmt, args).expect("query");
    let mut check = 0i64;
    for r in &rows {
        for (i, col) in r.columns().iter().enumerate() {
            check = check.wrapping_add(match *col.type_() {
                Type::INT8 => r.get::<_, Option<i64>>(i).unwrap_or(0),
                Type::INT4 => r.get::<_, Option<i32>>(i).map(i64::from).unwrap_or(0),
                Type::FLOAT8 => r.get::<_, Option<f64>>(i).map(|v| v as i64).unwrap_or(0),
                _ => r
                    .get::<_, Option<&str>>(i)
                    .map(|s| s.len() as i64)
                    .unwrap_or(0),
            });
        }
    }
    std::hint::black_box(check);
    rows.len()
}

/// A blocking client shared with `spawn_blocking` jobs (one at a time).
#[derive(Clone)]
pub struct Shared(pub Arc<Mutex<Client>>);

impl Shared {
    pub fn connect(url: &str) -> Shared {
        let url = url.to_string();
        Shared(Arc::new(Mutex::new(blocking(move || connect(&url)))))
    }

    /// Runs `f` with the client on tokio's blocking pool and waits for it.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> T + Send + 'static,
    ) -> T {
        let c = self.0.clone();
        tokio::task::spawn_blocking(move || f(&mut c.lock().expect("client")))
            .await
            .expect("blocking job")
    }

    /// Closes the client off any tokio worker.
    pub fn close(self) {
        blocking(move || drop(self));
    }
}
