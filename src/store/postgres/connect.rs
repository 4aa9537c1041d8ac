//! Reaching the server: the connection string (with libpq's `sslrootcert` and `verify-*`
//! modes, which tokio-postgres does not parse), TLS through rustls on `ring`, and the words
//! for what went wrong: never the URL, the password nor the SQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::Config;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::settings::Secret;

/// How long a new connection may take when the connection string does not say
/// (`connect_timeout`): long enough for a remote server, short enough for a health check.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the store lives, for people: server, database and user, never the password.
#[derive(Debug, Clone)]
pub(super) struct Place {
    /// `host:port` (every host when the string names several).
    pub(super) server: String,
    /// The database name.
    pub(super) database: String,
    /// The user we log in as.
    pub(super) user: String,
}

impl Place {
    /// "PostgreSQL at host:port, database NAME".
    pub(super) fn describe(&self) -> String {
        format!("PostgreSQL at {}, database {}", self.server, self.database)
    }

    /// "cannot use <place> as the maturity store: <why>".
    pub(super) fn unusable(&self, why: impl std::fmt::Display) -> String {
        format!(
            "cannot use {} as the maturity store: {why}",
            self.describe()
        )
    }
}

/// A parsed connection string: what to connect to and how.
pub(super) struct Endpoint {
    pub(super) config: Config,
    pub(super) tls: MakeRustlsConnect,
    pub(super) place: Place,
}

/// Parses the connection string (a `postgres://` URL or libpq's `key=value` pairs).
/// The error names the setting and never repeats the string.
pub(super) fn endpoint(url: &Secret) -> Result<Endpoint, String> {
    let (text, root_file) = libpq_options(url.expose());
    let mut config: Config = text.parse().map_err(|e: postgres::Error| {
        // Only the causes that name an option are shown: the parser's other messages
        // quote characters of the string, which may be the password's.
        let cause = chain(&e);
        let detail = cause
            .split_once(": ")
            .map(|(_, c)| c)
            .filter(|c| c.starts_with("unknown option") || c.starts_with("invalid value"))
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        format!(
            "the PostgreSQL connection string (secureJsonData.postgresUrl) is not valid{detail}: \
             write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require"
        )
    })?;
    if config.get_hosts().is_empty() {
        return Err(
            "the PostgreSQL connection string (secureJsonData.postgresUrl) names no host: \
             write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                .into(),
        );
    }
    let Some(user) = config.get_user().map(str::to_string) else {
        return Err(
            "the PostgreSQL connection string (secureJsonData.postgresUrl) names no user: \
             write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                .into(),
        );
    };
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        // Lets an admin tell our sessions apart in pg_stat_activity.
        config.application_name("datadriven-maturity");
    }
    let place = Place {
        server: server_of(&config),
        database: config.get_dbname().unwrap_or(&user).to_string(),
        user,
    };
    let tls = tls_connector(root_file.as_deref(), config.get_ssl_mode())
        .map_err(|why| place.unusable(why))?;
    Ok(Endpoint { config, tls, place })
}

/// `host:port` of every host the string names.
fn server_of(config: &Config) -> String {
    let ports = config.get_ports();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports
                .get(i)
                .or_else(|| ports.first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(h) if h.contains(':') => format!("[{h}]:{port}"),
                Host::Tcp(h) => format!("{h}:{port}"),
                #[cfg(unix)]
                Host::Unix(p) => format!("{}:{port}", p.display()),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Rewrites what libpq accepts and tokio-postgres refuses: `sslrootcert=FILE` is taken out
/// (we load that CA ourselves) and `sslmode=verify-ca|verify-full` becomes `require` (we
/// always verify), `allow` becomes `prefer`. Anything unparsable is left for tokio-postgres
/// to refuse.
fn libpq_options(text: &str) -> (String, Option<PathBuf>) {
    let trimmed = text.trim();
    let is_url = ["postgres://", "postgresql://"].iter().any(|p| {
        trimmed
            .get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    });
    if is_url {
        url_options(trimmed)
    } else {
        match key_values(trimmed) {
            Some(pairs) => {
                let mut root = None;
                let mut out = Vec::new();
                for (k, v) in pairs {
                    match k.as_str() {
                        "sslrootcert" => root = Some(PathBuf::from(v)),
                        "sslmode" => out.push(format!("sslmode={}", ssl_mode_alias(&v))),
                        _ => out.push(format!(
                            "{k}='{}'",
                            v.replace('\\', "\\\\").replace('\'', "\\'")
                        )),
                    }
                }
                (out.join(" "), root)
            }
            None => (trimmed.to_string(), None),
        }
    }
}

fn ssl_mode_alias(mode: &str) -> &str {
    match mode {
        "verify-ca" | "verify-full" => "require",
        "allow" => "prefer",
        other => other,
    }
}

fn url_options(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut root = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslrootcert" => root = Some(PathBuf::from(percent_decode(v))),
            "sslmode" => kept.push(format!("sslmode={}", ssl_mode_alias(&percent_decode(v)))),
            _ => kept.push(pair.to_string()),
        }
    }
    if kept.is_empty() {
        (base.to_string(), root)
    } else {
        (format!("{base}?{}", kept.join("&")), root)
    }
}

/// URL percent-decoding (`+` stays a plus, as libpq reads it).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libpq's `key=value` pairs (values optionally in single quotes, `\` escaping); `None`
/// when the text is not of that shape.
fn key_values(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(pairs);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.push(chars.next()?);
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// The TLS side: rustls on `ring`, verifying the server's certificate and host name against
/// the CA of `sslrootcert` when given, else the system's trusted CAs. Used only when the
/// server agrees to TLS (`prefer`) or must (`require`).
fn tls_connector(root_file: Option<&Path>, mode: SslMode) -> Result<MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    // libpq 16's `sslrootcert=system` names the system's CAs, our default.
    let root_file = root_file.filter(|p| p.as_os_str() != "system");
    match root_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!(
                        "cannot read the CA certificates of sslrootcert={}: {e}",
                        path.display()
                    )
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "sslrootcert={} holds no CA certificate (PEM, -----BEGIN CERTIFICATE-----)",
                    path.display()
                ));
            }
        }
        None if mode == SslMode::Disable => {}
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() && mode == SslMode::Require {
                return Err(
                    "sslmode=require, but this machine has no trusted CA certificates (none in \
                     /etc/ssl/certs nor SSL_CERT_FILE): name the server's CA with \
                     sslrootcert=/path/to/ca.pem in the connection string"
                        .to_string(),
                );
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS cannot be set up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The causes of an error joined by ": ", from postgres' kind ("error connecting to
/// server") down; an `io::Error` is looked through (its `source` skips the wrapped error).
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = next_cause(e);
    while let Some(cause) = next {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        next = next_cause(cause);
    }
    parts.join(": ")
}

fn next_cause<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if let Some(inner) = io.get_ref() {
            return Some(inner as &(dyn std::error::Error + 'static));
        }
        return None;
    }
    e.source()
}

/// Every error in the chain, for looking for a typed cause.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = vec![e];
    let mut next = next_cause(e);
    while let Some(c) = next {
        out.push(c);
        next = next_cause(c);
    }
    out
}

/// Why a connection could not be made, in words an admin can act on: unreachable,
/// authentication, missing database, permissions, TLS.
pub(super) fn connect_failure(place: &Place, e: &postgres::Error) -> String {
    let user = &place.user;
    let database = &place.database;
    if let Some(db) = e.as_db_error() {
        let msg = db.message();
        let code = db.code();
        let why = if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            format!(
                "the server refused to log in user {user:?} ({msg}): check the user and \
                 password of the connection string (secureJsonData.postgresUrl), and that the \
                 server's pg_hba.conf lets this user in from this host (with TLS, if it asks \
                 for hostssl: then add sslmode=require)"
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!(
                "database {database:?} does not exist on the server: create it \
                 (CREATE DATABASE \"{database}\" OWNER \"{user}\") or name an existing one in the \
                 connection string"
            )
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            format!(
                "user {user:?} may not connect to database {database:?} ({msg}): \
                 GRANT CONNECT ON DATABASE \"{database}\" TO \"{user}\""
            )
        } else if *code == SqlState::TOO_MANY_CONNECTIONS {
            format!(
                "the server has no free connection ({msg}): raise its \
                 max_connections, or give this user more (ALTER ROLE … CONNECTION LIMIT)"
            )
        } else if *code == SqlState::CANNOT_CONNECT_NOW {
            format!("the server is starting or stopping ({msg}): try again shortly")
        } else {
            format!(
                "the server refused the connection: {msg} (SQLSTATE {})",
                code.code()
            )
        };
        return place.unusable(why);
    }
    let kind = e.to_string();
    let detail = chain(e);
    let why = if kind.starts_with("error performing TLS handshake") {
        tls_failure(e, &detail)
    } else if kind.starts_with("error connecting to server")
        || kind.starts_with("timeout waiting for server")
    {
        let io = causes(e)
            .into_iter()
            .find_map(|c| c.downcast_ref::<std::io::Error>());
        match io.map(std::io::Error::kind) {
            Some(std::io::ErrorKind::ConnectionRefused) => {
                "cannot reach the server: the connection was refused (is it running, and \
                 listening on that address and port?)"
                    .to_string()
            }
            Some(std::io::ErrorKind::TimedOut) | None
                if kind.starts_with("timeout") || detail.contains("timed out") =>
            {
                "cannot reach the server: no answer within the connect timeout (a \
                     firewall, or a wrong host or port?)"
                    .to_string()
            }
            _ => format!(
                "cannot reach the server ({}): check the host name and port of the \
                 connection string",
                after_kind(&detail)
            ),
        }
    } else if kind.starts_with("authentication error") {
        format!(
            "user {user:?} could not authenticate ({}): check the password of the connection \
             string (secureJsonData.postgresUrl)",
            after_kind(&detail)
        )
    } else if kind.starts_with("error communicating with the server")
        || kind.starts_with("connection closed")
        || kind.starts_with("unexpected message")
        || kind.starts_with("error parsing response")
    {
        format!(
            "the server broke off the connection while it started ({detail}): check that \
             the host and port are a PostgreSQL server's"
        )
    } else {
        format!("connecting failed: {detail}")
    };
    place.unusable(why)
}

/// What follows postgres' own kind in a chain ("error connecting to server: X" → "X").
fn after_kind(detail: &str) -> &str {
    detail.split_once(": ").map(|(_, c)| c).unwrap_or(detail)
}

fn tls_failure(e: &postgres::Error, detail: &str) -> String {
    use rustls::CertificateError as C;
    let rustls_error = causes(e)
        .into_iter()
        .find_map(|c| c.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(cert)) => match cert {
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's TLS certificate is not valid for that host \
                 name: connect with a name the certificate was issued for"
                    .to_string()
            }
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => {
                format!(
                    "the server's TLS certificate is out of its validity \
                     period ({cert:?}): renew it on the server"
                )
            }
            _ => format!(
                "the server's TLS certificate was not trusted ({}): name the \
                 CA that signed it with sslrootcert=/path/to/ca.pem in the connection string, \
                 or set sslmode=disable to connect without TLS",
                short_cert_error(cert)
            ),
        },
        Some(other) => format!("TLS with the server failed: {other}"),
        None if detail.contains("server does not support TLS") => {
            "the server does not accept TLS, but the connection string requires \
             it (sslmode=require): turn ssl on in the server, or set sslmode=disable"
                .to_string()
        }
        None => format!("TLS with the server failed: {}", after_kind(detail)),
    }
}

fn short_cert_error(cert: &rustls::CertificateError) -> &'static str {
    use rustls::CertificateError as C;
    match cert {
        C::UnknownIssuer => "signed by an unknown CA",
        C::BadSignature => "bad signature",
        C::Revoked => "revoked",
        C::BadEncoding => "badly encoded",
        _ => "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_options_are_taken_out_of_a_url() {
        let (text, root) = libpq_options(
            "postgres://u:p%40ss@db:5433/m?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem&connect_timeout=3",
        );
        assert_eq!(
            text,
            "postgres://u:p%40ss@db:5433/m?sslmode=require&connect_timeout=3"
        );
        assert_eq!(root, Some(PathBuf::from("/etc/ca x.pem")));
        let (text, root) = libpq_options("postgresql://u@db/m?sslrootcert=/ca.pem");
        assert_eq!(
            (text.as_str(), root),
            ("postgresql://u@db/m", Some(PathBuf::from("/ca.pem")))
        );
        assert_eq!(libpq_options("postgres://u@db/m").0, "postgres://u@db/m");
    }

    #[test]
    fn libpq_options_are_taken_out_of_key_value_pairs() {
        let (text, root) = libpq_options(
            r"host=db user=u password='it\'s \\ x' sslmode=verify-ca sslrootcert = '/ca dir/ca.pem'",
        );
        assert_eq!(root, Some(PathBuf::from("/ca dir/ca.pem")));
        let config: Config = text.parse().expect("still parses");
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert_eq!(config.get_user(), Some("u"));
        assert_eq!(config.get_password(), Some(&b"it's \\ x"[..]));
        // Not of that shape: left for tokio-postgres to refuse.
        assert_eq!(libpq_options("user='open").0, "user='open");
    }

    #[test]
    fn the_place_names_host_port_and_database_but_not_the_password() {
        let e =
            endpoint(&Secret::new("postgres://app:pw@db.example:6432/maturity")).expect("parses");
        assert_eq!(
            e.place.describe(),
            "PostgreSQL at db.example:6432, database maturity"
        );
        assert_eq!(e.place.user, "app");
        let e = endpoint(&Secret::new("postgres://app@[::1]/")).expect("parses");
        assert_eq!(e.place.describe(), "PostgreSQL at [::1]:5432, database app");
        assert!(
            endpoint(&Secret::new("postgres://db/m")).is_err(),
            "a user is needed"
        );
    }
}
