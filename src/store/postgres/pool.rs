//! The pooled connection: a client with the statements it has prepared, so the hot reads
//! are parsed and planned once per connection instead of on every call (issue 15).

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Statement};
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

impl PgConn {
    /// Runs `sql` as a statement prepared once on this connection, with `args` as typed
    /// parameters: after the first call, one round trip with no parsing or planning.
    pub(crate) fn query_prepared(
        &mut self,
        sql: &str,
        args: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = match self.statements.get(sql) {
            Some(s) => s.clone(),
            None => {
                let types: Vec<Type> = args.iter().map(|(_, t)| t.clone()).collect();
                let s = self.client.prepare_typed(sql, &types)?;
                if self.statements.len() >= MAX_STATEMENTS {
                    self.statements.clear();
                }
                self.statements.insert(sql.to_string(), s.clone());
                s
            }
        };
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|(v, _)| *v).collect();
        match self.client.query(&statement, &params) {
            // The server no longer knows the statement: a pooler in transaction mode between
            // us and it (pgbouncer) runs each statement on whichever server connection is
            // free. Forget what was prepared and send this one unprepared.
            Err(e) if e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME) => {
                self.statements.clear();
                self.client.query_typed(sql, args)
            }
            other => other,
        }
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

    /// The server of `scripts/with-postgres`, when it is there (required under it).
    fn server() -> Option<Client> {
        let Ok(url) = std::env::var("MATURITY_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("MATURITY_REQUIRE_POSTGRES").is_none(),
                "MATURITY_REQUIRE_POSTGRES is set but MATURITY_TEST_POSTGRES_URL is not"
            );
            return None;
        };
        Some(Client::connect(&url, postgres::NoTls).expect("connect"))
    }

    #[test]
    fn statements_are_prepared_once_and_sent_unprepared_when_the_server_forgot_them() {
        let Some(client) = server() else {
            return;
        };
        let mut conn = PgConn {
            client,
            statements: HashMap::new(),
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
}
