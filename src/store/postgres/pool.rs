//! The pooled connection: a client with the statements it has prepared, so the hot reads
//! are parsed and planned once per connection instead of on every call (issue 15).

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, IsolationLevel, Row, Statement, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Statements kept per connection at most; past it the connection starts again (the
/// store's statements come in a few dozen shapes).
const MAX_STATEMENTS: usize = 64;

/// A pooled connection: the client and its prepared statements, by SQL text.
pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Deref for PgConn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// A statement's parameters, each with its type.
pub(crate) type Args<'a> = [(&'a (dyn ToSql + Sync), Type)];

/// Where the store's reads run a statement: a client or a write's transaction sends it with
/// `query_typed` (one round trip, parsed and planned each time); a [`Snapshot`] prepares
/// it once per connection.
pub(crate) trait Ask {
    /// The rows of `sql` with `args`.
    fn ask(&mut self, sql: &str, args: &Args<'_>) -> Result<Vec<Row>, postgres::Error>;
}

impl<C: GenericClient> Ask for C {
    fn ask(&mut self, sql: &str, args: &Args<'_>) -> Result<Vec<Row>, postgres::Error> {
        self.query_typed(sql, args)
    }
}

/// The statement of `sql` prepared on this connection (by `client`, the connection or a
/// transaction on it), prepared now when it was not yet.
fn prepared(
    client: &mut impl GenericClient,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
    args: &Args<'_>,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let types: Vec<Type> = args.iter().map(|(_, t)| t.clone()).collect();
    let s = client.prepare_typed(sql, &types)?;
    if statements.len() >= MAX_STATEMENTS {
        statements.clear();
    }
    statements.insert(sql.to_string(), s.clone());
    Ok(s)
}

fn values<'a>(args: &'a Args<'a>) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|(v, _)| *v).collect()
}

/// Whether the server no longer knows a statement prepared on this connection: a pooler
/// in transaction mode between us and it (pgbouncer) runs each transaction on whichever
/// server connection is free.
pub(crate) fn statement_forgotten(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME)
}

impl PgConn {
    /// Runs `sql` as a statement prepared once on this connection, with `args` as typed
    /// parameters: after the first call, one round trip with no parsing or planning.
    pub(crate) fn query_prepared(
        &mut self,
        sql: &str,
        args: &Args<'_>,
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = prepared(&mut self.client, &mut self.statements, sql, args)?;
        match self.client.query(&statement, &values(args)) {
            // Forget what was prepared and send this one unprepared.
            Err(e) if statement_forgotten(&e) => {
                self.forget_statements();
                self.client.query_typed(sql, args)
            }
            other => other,
        }
    }

    /// How many statements this connection has prepared.
    #[cfg(test)]
    pub(crate) fn prepared_count(&self) -> usize {
        self.statements.len()
    }

    /// Drops every statement prepared so far (the server forgot them).
    pub(crate) fn forget_statements(&mut self) {
        self.statements.clear();
    }

    /// A read-only transaction that sees one snapshot for all its statements, as SQLite's
    /// read transaction gives, with this connection's prepared statements.
    pub(crate) fn snapshot(&mut self) -> Result<Snapshot<'_>, postgres::Error> {
        let tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        Ok(Snapshot {
            tx,
            statements: &mut self.statements,
        })
    }
}

/// A read-only snapshot ([`PgConn::snapshot`]) whose statements are prepared once per
/// connection: an evidence read's seven statements were parsed and planned on every read
/// (issue 15). A statement the server forgot fails the snapshot (`statement_forgotten`),
/// which the caller reads again after [`PgConn::forget_statements`].
pub(crate) struct Snapshot<'c> {
    tx: Transaction<'c>,
    statements: &'c mut HashMap<String, Statement>,
}

impl Ask for Snapshot<'_> {
    fn ask(&mut self, sql: &str, args: &Args<'_>) -> Result<Vec<Row>, postgres::Error> {
        let statement = prepared(&mut self.tx, self.statements, sql, args)?;
        self.tx.query(&statement, &values(args))
    }
}

/// r2d2's manager for [`PgConn`]: r2d2_postgres's, with a statement cache per connection.
pub(crate) struct Manager(pub(crate) PostgresConnectionManager<MakeRustlsConnect>);

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Manager")
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            client: self.0.connect()?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to the server of `scripts/with-postgres`, with no statement prepared,
    /// when the server is there (required under it).
    fn server() -> Option<PgConn> {
        let Ok(url) = std::env::var("MATURITY_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("MATURITY_REQUIRE_POSTGRES").is_none(),
                "MATURITY_REQUIRE_POSTGRES is set but MATURITY_TEST_POSTGRES_URL is not"
            );
            return None;
        };
        Some(PgConn {
            client: Client::connect(&url, postgres::NoTls).expect("connect"),
            statements: HashMap::new(),
        })
    }

    #[test]
    fn statements_are_prepared_once_and_sent_unprepared_when_the_server_forgot_them() {
        let Some(mut conn) = server() else {
            return;
        };
        let sql = "SELECT $1::bigint + 1";
        let ask = |conn: &mut PgConn, n: i64| -> i64 {
            conn.query_prepared(sql, &[(&n, Type::INT8)])
                .expect("query")[0]
                .get(0)
        };
        assert_eq!(ask(&mut conn, 1), 2);
        assert_eq!(conn.statements.len(), 1, "prepared once");
        assert_eq!(ask(&mut conn, 2), 3);
        assert_eq!(conn.statements.len(), 1, "and used again");
        // What a pooler in transaction mode does to us: the server forgets the statement.
        conn.client
            .batch_execute("DEALLOCATE ALL")
            .expect("deallocate");
        assert_eq!(ask(&mut conn, 3), 4, "sent unprepared");
        assert!(
            conn.statements.is_empty(),
            "the forgotten statements are dropped"
        );
        assert_eq!(ask(&mut conn, 4), 5);
        assert_eq!(conn.statements.len(), 1, "prepared again");
    }

    #[test]
    fn a_snapshot_prepares_on_the_connection_and_fails_clearly_when_the_server_forgot() {
        let Some(mut conn) = server() else {
            return;
        };
        let sql = "SELECT $1::bigint * 2";
        let ask = |conn: &mut PgConn, n: i64| -> Result<i64, postgres::Error> {
            let mut snapshot = conn.snapshot()?;
            Ok(snapshot.ask(sql, &[(&n, Type::INT8)])?[0].get(0))
        };
        assert_eq!(ask(&mut conn, 21).expect("ask"), 42);
        assert_eq!(conn.statements.len(), 1, "kept after the snapshot ended");
        assert_eq!(ask(&mut conn, 2).expect("ask again"), 4);
        assert_eq!(conn.statements.len(), 1, "and used again");
        conn.client
            .batch_execute("DEALLOCATE ALL")
            .expect("deallocate");
        let forgotten = ask(&mut conn, 3).expect_err("the server forgot the statement");
        assert!(statement_forgotten(&forgotten), "{forgotten}");
        conn.forget_statements();
        assert_eq!(ask(&mut conn, 3).expect("prepared anew"), 6);
    }
}
