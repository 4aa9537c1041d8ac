//! The narrow Grafana HTTP client (SPEC §9, issue 12): the few endpoints of Grafana's own API
//! the product calls back, with a base URL, a service account token, a timeout and retries.
//!
//! - [`annotations`]: `GET /api/annotations`, paged by time.
//! - [`versions`]: `GET /api/dashboards/uid/{uid}/versions`, both the older list answer and
//!   the newer `{versions, continueToken}` answer.
//! - [`dsquery`]: `POST /api/ds/query` and the reduction of its frames to numbers.
//! - [`permissions`]: `GET /api/access-control/user/permissions`, for CheckHealth.
//!
//! Errors are typed ([`GrafanaError`]) and say whose fault they are ([`Fault`]): the token's,
//! the network's, Grafana's or the query's. The token never appears in `Debug`, in an error
//! or in a log line: it only ever leaves this module in the `Authorization` header.
//!
//! TLS is rustls on the `ring` provider, which builds for the static musl targets.

pub mod annotations;
pub mod dsquery;
pub mod permissions;
pub mod versions;

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::settings::Secret;

/// Where Grafana is when neither `jsonData.grafanaUrl` nor `GF_APP_URL` says.
pub const DEFAULT_URL: &str = "http://localhost:3000";

/// Whose fault a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service account token: missing, rejected, or lacking a permission.
    Token,
    /// The way to Grafana: refused, unresolved, TLS, or too slow.
    Network,
    /// Grafana itself: a server error or an answer of a shape it does not send.
    Grafana,
    /// The query a target or decision carries, or the datasource it names: an error in
    /// the query, no data, or no number.
    Query,
}

impl Fault {
    /// The wire name (`token`, `network`, `grafana`, `query`).
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Token => "token",
            Fault::Network => "network",
            Fault::Grafana => "grafana",
            Fault::Query => "query",
        }
    }
}

/// What can go wrong calling Grafana. No variant carries the token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GrafanaError {
    /// No service account token is configured.
    #[error("no service account token is set (secureJsonData.serviceAccountToken)")]
    NoToken,
    /// Grafana could not be reached.
    #[error("cannot reach Grafana at {url}: {detail}")]
    Unreachable {
        /// The URL asked (never with credentials).
        url: String,
        /// What the network said.
        detail: String,
    },
    /// Grafana did not answer within the timeout.
    #[error("Grafana at {url} did not answer within {}", seconds(*after))]
    TimedOut {
        /// The URL asked.
        url: String,
        /// The timeout of one attempt.
        after: Duration,
    },
    /// 401: the token is wrong, expired or revoked.
    #[error("Grafana rejected the service account token (401 on {path}): it is wrong, expired or revoked")]
    TokenRejected {
        /// The API path asked.
        path: String,
    },
    /// 403: the token's service account lacks a permission.
    #[error(
        "the service account may not {what} (403 on {path}){}",
        detail_suffix(detail)
    )]
    Forbidden {
        /// What was refused, in words ("read annotations").
        what: String,
        /// The API path asked.
        path: String,
        /// Grafana's message, if any.
        detail: String,
    },
    /// 404: the dashboard (or datasource) does not exist for this token.
    #[error("Grafana has no {what} (404 on {path})")]
    NotFound {
        /// What is missing, in words.
        what: String,
        /// The API path asked.
        path: String,
    },
    /// Grafana answered an error of its own (5xx, or a status this client does not expect).
    #[error("Grafana answered {status} on {path}{}", detail_suffix(message))]
    Server {
        /// HTTP status.
        status: u16,
        /// The API path asked.
        path: String,
        /// Grafana's message, if any.
        message: String,
    },
    /// The answer is not of a shape Grafana sends.
    #[error("unexpected answer from Grafana on {path}: {detail}")]
    Unexpected {
        /// The API path asked.
        path: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The datasource query failed (the error Grafana's query answer carries).
    #[error("the query failed{}: {message}", status.map(|s| format!(" ({s})")).unwrap_or_default())]
    Query {
        /// The status of the query's own answer, if given.
        status: Option<u16>,
        /// The datasource's message.
        message: String,
    },
    /// The query answered no value to reduce.
    #[error("the query answered no data{}", detail_suffix(detail))]
    NoData {
        /// Where it looked.
        detail: String,
    },
    /// The query answered, but no field holds numbers.
    #[error("the query answered no numeric field ({detail})")]
    NotNumeric {
        /// The fields it had.
        detail: String,
    },
}

fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

fn detail_suffix(s: &str) -> String {
    if s.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", s.trim())
    }
}

impl GrafanaError {
    /// Whose fault it is.
    pub fn fault(&self) -> Fault {
        match self {
            GrafanaError::NoToken
            | GrafanaError::TokenRejected { .. }
            | GrafanaError::Forbidden { .. } => Fault::Token,
            GrafanaError::Unreachable { .. } | GrafanaError::TimedOut { .. } => Fault::Network,
            GrafanaError::Server { .. }
            | GrafanaError::Unexpected { .. }
            | GrafanaError::NotFound { .. } => Fault::Grafana,
            GrafanaError::Query { .. }
            | GrafanaError::NoData { .. }
            | GrafanaError::NotNumeric { .. } => Fault::Query,
        }
    }

    /// Whether another attempt may succeed (network trouble, 429, 5xx).
    fn is_transient(&self) -> bool {
        match self {
            GrafanaError::Unreachable { .. } | GrafanaError::TimedOut { .. } => true,
            GrafanaError::Server { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// How the client talks to Grafana.
#[derive(Clone, PartialEq)]
pub struct GrafanaConfig {
    /// Grafana's root URL (`jsonData.grafanaUrl`, else `GF_APP_URL`, else [`DEFAULT_URL`]).
    pub url: String,
    /// The service account token.
    pub token: Secret,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Attempts after the first for transient failures (network, 429, 5xx).
    pub retries: u32,
    /// The wait before the first retry; it doubles each time.
    pub backoff: Duration,
    /// Annotations asked per page.
    pub page_size: usize,
    /// The most pages one listing reads before it stops and says it is incomplete.
    pub max_pages: usize,
}

impl std::fmt::Debug for GrafanaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrafanaConfig")
            .field("url", &self.url)
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl GrafanaConfig {
    /// The product's defaults: 10 s per attempt, 2 retries from 500 ms, pages of 500.
    pub fn new(url: impl Into<String>, token: Secret) -> Self {
        Self {
            url: url.into(),
            token,
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(500),
            page_size: 500,
            max_pages: 200,
        }
    }

    /// The URL by the rules of SPEC §6: `jsonData.grafanaUrl`, else `GF_APP_URL`, else
    /// `http://localhost:3000`.
    pub fn resolve_url(json_data_url: Option<&str>, app_url: Option<&str>) -> String {
        json_data_url
            .filter(|u| !u.trim().is_empty())
            .or(app_url.filter(|u| !u.trim().is_empty()))
            .unwrap_or(DEFAULT_URL)
            .trim()
            .to_string()
    }
}

/// Checks that `url` is an http(s) URL without credentials, as `grafanaUrl` must be.
pub fn check_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url.trim()).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{url:?} must start with http:// or https://, not {}:",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
            "must not carry a user or password; the service account token authenticates".into(),
        );
    }
    Ok(parsed)
}

/// A client of one Grafana with one token.
#[derive(Clone)]
pub struct GrafanaClient {
    base: Url,
    config: GrafanaConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for GrafanaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrafanaClient")
            .field("base", &self.base.as_str())
            .field("config", &self.config)
            .finish()
    }
}

/// Installs rustls' `ring` provider as the process default once (reqwest asks for it).
fn install_crypto_provider() {
    // An error means a provider is installed already, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl GrafanaClient {
    /// A client for `config`; the URL must be http(s) without credentials.
    pub fn new(config: GrafanaConfig) -> Result<Self, String> {
        let mut base = check_url(&config.url)?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("datadriven-maturity/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", chain(&e)))?;
        Ok(Self { base, config, http })
    }

    /// The Grafana URL this client calls (for people).
    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    /// The settings it was made with.
    pub fn config(&self) -> &GrafanaConfig {
        &self.config
    }

    /// The same client with `retries` retries (CheckHealth answers after one attempt).
    pub fn with_retries(&self, retries: u32) -> Self {
        let mut c = self.clone();
        c.config.retries = retries;
        c
    }

    /// `path` (no leading slash) under the base URL with query parameters.
    fn endpoint(&self, path: &str, query: &[(&str, String)]) -> Result<Url, GrafanaError> {
        let mut url = self.base.join(path).map_err(|e| GrafanaError::Unexpected {
            path: path.to_string(),
            detail: format!("cannot build the URL: {e}"),
        })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Sends one request with retries; answers the status and body of a 2xx, or the
    /// typed error. `what` says what a 403 refused, in words.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<(StatusCode, Vec<u8>), GrafanaError> {
        if self.config.token.expose().trim().is_empty() {
            return Err(GrafanaError::NoToken);
        }
        let url = self.endpoint(path, query)?;
        let mut wait = self.config.backoff;
        let mut attempt = 0;
        loop {
            let result = self.attempt(method.clone(), &url, path, body, what).await;
            match result {
                Err(e) if e.is_transient() && attempt < self.config.retries => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                other => return other,
            }
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<(StatusCode, Vec<u8>), GrafanaError> {
        let shown = shown_url(url);
        let mut req = self
            .http
            .request(method, url.clone())
            .bearer_auth(self.config.token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            let bytes = serde_json::to_vec(b).map_err(|e| GrafanaError::Unexpected {
                path: path.to_string(),
                detail: format!("cannot encode the request: {e}"),
            })?;
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let network = |e: reqwest::Error| {
            if e.is_timeout() {
                GrafanaError::TimedOut {
                    url: shown.clone(),
                    after: self.config.timeout,
                }
            } else {
                GrafanaError::Unreachable {
                    url: shown.clone(),
                    detail: chain(&e),
                }
            }
        };
        let resp = req.send().await.map_err(network)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(network)?.to_vec();
        if status.is_success() {
            return Ok((status, bytes));
        }
        let message = error_message(&bytes);
        Err(match status.as_u16() {
            401 => GrafanaError::TokenRejected {
                path: path.to_string(),
            },
            403 => GrafanaError::Forbidden {
                what: what.to_string(),
                path: path.to_string(),
                detail: message,
            },
            404 => GrafanaError::NotFound {
                what: missing_thing(path),
                path: path.to_string(),
            },
            s => {
                // /api/ds/query answers a failed query with 400 (or 207) and the results.
                if path == dsquery::PATH && (s == 400 || s == 207) && !bytes.is_empty() {
                    return Ok((status, bytes));
                }
                GrafanaError::Server {
                    status: s,
                    path: path.to_string(),
                    message,
                }
            }
        })
    }

    /// GET `path` and parse the JSON answer.
    async fn get_json(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Value, GrafanaError> {
        let (_, bytes) = self.send(Method::GET, path, query, None, what).await?;
        parse_json(path, &bytes)
    }
}

/// What a 404 on `path` says is missing, in words.
fn missing_thing(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["api", "dashboards", "uid", uid, ..] => format!("dashboard {uid}"),
        ["api", "ds", "query"] => "datasource by that uid".into(),
        _ => format!("endpoint /{path} (is grafanaUrl Grafana's root URL?)"),
    }
}

/// The URL for messages: scheme, host, port and path, never a query or credentials.
fn shown_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// An error and its causes in one line (reqwest's own message omits the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Grafana's error body `{"message": …}` (or the start of a text body).
fn error_message(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => v
            .get("message")
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            text.chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_string()
        }
    }
}

fn parse_json(path: &str, bytes: &[u8]) -> Result<Value, GrafanaError> {
    serde_json::from_slice(bytes).map_err(|e| GrafanaError::Unexpected {
        path: path.to_string(),
        detail: format!("not JSON ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_comes_from_json_data_then_gf_app_url_then_localhost() {
        assert_eq!(
            GrafanaConfig::resolve_url(Some("https://g.example/"), Some("http://app")),
            "https://g.example/"
        );
        assert_eq!(
            GrafanaConfig::resolve_url(Some(" "), Some("http://app:3000/")),
            "http://app:3000/"
        );
        assert_eq!(GrafanaConfig::resolve_url(None, None), DEFAULT_URL);
    }

    #[test]
    fn a_url_must_be_http_without_credentials() {
        assert!(check_url("http://localhost:3000").is_ok());
        assert!(check_url("https://grafana.example/sub/").is_ok());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("localhost:3000").is_err());
        assert!(check_url("http://user:pw@host").is_err());
    }

    #[test]
    fn a_sub_path_is_kept_and_the_token_never_prints() {
        let client = GrafanaClient::new(GrafanaConfig::new(
            "http://h:3000/grafana",
            secret("glsa_never_print_me"),
        ))
        .expect("client");
        let url = client.endpoint("api/annotations", &[]).expect("url");
        assert_eq!(url.as_str(), "http://h:3000/grafana/api/annotations");
        let printed = format!("{client:?}");
        assert!(!printed.contains("never_print"), "{printed}");
    }

    #[test]
    fn faults_are_named() {
        assert_eq!(GrafanaError::NoToken.fault(), Fault::Token);
        let e = GrafanaError::TimedOut {
            url: "http://h/api/x".into(),
            after: Duration::from_millis(300),
        };
        assert_eq!(e.fault(), Fault::Network);
        assert_eq!(
            e.to_string(),
            "Grafana at http://h/api/x did not answer within 300 ms"
        );
        let s = GrafanaError::Server {
            status: 500,
            path: "api/annotations".into(),
            message: "db is locked".into(),
        };
        assert_eq!(s.fault(), Fault::Grafana);
        assert_eq!(
            s.to_string(),
            "Grafana answered 500 on api/annotations: db is locked"
        );
    }

    fn secret(s: &str) -> Secret {
        Secret::new(s)
    }
}
