//! Our gRPC server: pluginv2 Data (pre-checked, then the SDK's data service for Arrow
//! encoding), Resource and Diagnostics (ours), go-plugin's controller and health, and the
//! graceful stop that writes pending views before the process exits.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use futures::StreamExt;
use grafana_plugin_sdk::pluginv2::{
    self, data_server, diagnostics_server, resource_server, CallResourceResponse,
    CheckHealthResponse, CollectMetricsResponse, DataResponse, QueryDataResponse, StringList,
};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

use super::data::DataHandler;
use super::diagnostics;
use super::instances::RequestContext;
use super::resource::{self, ResourceRequest};
use super::PluginState;
use crate::app::AppError;

/// Largest gRPC message taken: a 64 MiB import plus its envelope.
pub const MAX_MESSAGE: usize = 80 << 20;

/// The most queries one QueryData request may carry (Grafana sends one per panel query).
pub const MAX_QUERIES: usize = 1000;

/// The front Data service.
pub struct DataFront {
    handler: DataHandler,
}

fn valid_ms(ms: i64) -> bool {
    Utc.timestamp_millis_opt(ms).single().is_some()
}

fn query_error(status: i32, message: impl Into<String>) -> DataResponse {
    DataResponse {
        frames: Vec::new(),
        error: message.into(),
        json_meta: Vec::new(),
        status,
    }
}

/// Why a whole request cannot reach the SDK (which would fail it as a whole, or panic).
fn request_problem(req: &pluginv2::QueryDataRequest) -> Option<(i32, String)> {
    let Some(ctx) = &req.plugin_context else {
        return Some((400, "the request carries no plugin context".into()));
    };
    if let Some(user) = &ctx.user {
        if !matches!(user.role.as_str(), "Admin" | "Editor" | "Viewer") {
            return Some((
                403,
                format!(
                    "forbidden: your Grafana role in this organisation ({}) may not read this data source",
                    if user.role.is_empty() { "none" } else { user.role.as_str() }
                ),
            ));
        }
    }
    let Some(ds) = &ctx.data_source_instance_settings else {
        return Some((
            400,
            "datasource: the request carries no datasource settings; call this plugin through a configured data source".into(),
        ));
    };
    if !ds.json_data.is_empty()
        && serde_json::from_slice::<serde_json::Value>(&ds.json_data).is_err()
    {
        return Some((
            400,
            "jsonData: the datasource settings are not valid JSON".into(),
        ));
    }
    if !valid_ms(ds.last_updated_ms) {
        return Some((
            400,
            format!("lastUpdatedMS {} is not a valid time", ds.last_updated_ms),
        ));
    }
    None
}

/// Why one query cannot reach the SDK.
fn query_problem(q: &pluginv2::DataQuery) -> Option<String> {
    if !q.json.is_empty() {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&q.json) {
            return Some(format!("query: not valid JSON: {e}"));
        }
    }
    match &q.time_range {
        None => Some("timeRange: is required".into()),
        Some(r) if !valid_ms(r.from_epoch_ms) || !valid_ms(r.to_epoch_ms) => {
            Some("timeRange: from and to must be valid epoch milliseconds".into())
        }
        Some(r) if r.from_epoch_ms > r.to_epoch_ms => Some("timeRange: from is after to".into()),
        Some(_) => None,
    }
}

#[tonic::async_trait]
impl data_server::Data for DataFront {
    async fn query_data(
        &self,
        request: Request<pluginv2::QueryDataRequest>,
    ) -> Result<Response<QueryDataResponse>, Status> {
        let mut req = request.into_inner();
        let mut responses: HashMap<String, DataResponse> = HashMap::new();
        if let Some((status, message)) = request_problem(&req) {
            for q in &req.queries {
                responses.insert(q.ref_id.clone(), query_error(status, message.clone()));
            }
            return Ok(Response::new(QueryDataResponse { responses }));
        }
        // A request's list of queries has a limit too (issue 11); past it, each query is
        // answered with the error on its own refId.
        if req.queries.len() > MAX_QUERIES {
            for q in req.queries.drain(MAX_QUERIES..) {
                responses.insert(
                    q.ref_id.clone(),
                    query_error(
                        400,
                        format!(
                            "queries: one request holds at most {MAX_QUERIES} queries; send the rest in another"
                        ),
                    ),
                );
            }
        }
        req.queries.retain(|q| match query_problem(q) {
            Some(message) => {
                responses.insert(q.ref_id.clone(), query_error(400, message));
                false
            }
            None => true,
        });
        if !req.queries.is_empty() {
            let answered = data_server::Data::query_data(&self.handler, Request::new(req)).await?;
            responses.extend(answered.into_inner().responses);
        }
        Ok(Response::new(QueryDataResponse { responses }))
    }
}

/// The Resource service.
pub struct ResourceService {
    state: Arc<PluginState>,
}

/// The messages of one resource answer.
type Parts = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<CallResourceResponse, Status>> + Send + 'static>,
>;

/// A resource answer as go-plugin messages: the first carries the status and headers,
/// each carries at most [`resource::MAX_PART`] bytes of the body (Grafana joins them).
fn parts(response: resource::ResourceResponse) -> Parts {
    let mut headers = HashMap::new();
    headers.insert(
        "Content-Type".to_string(),
        StringList {
            values: vec![response.content_type.to_string()],
        },
    );
    let code = i32::from(response.status);
    let message = move |first: bool, body: Vec<u8>, headers: &HashMap<String, StringList>| {
        CallResourceResponse {
            code,
            headers: if first {
                headers.clone()
            } else {
                HashMap::new()
            },
            body: body.into(),
        }
    };
    match response.body {
        resource::Body::Full(body) => {
            let mut chunks: Vec<Vec<u8>> = body
                .chunks(resource::MAX_PART)
                .map(<[u8]>::to_vec)
                .collect();
            if chunks.is_empty() {
                chunks.push(Vec::new());
            }
            let messages: Vec<CallResourceResponse> = chunks
                .into_iter()
                .enumerate()
                .map(|(i, c)| message(i == 0, c, &headers))
                .collect();
            Box::pin(futures::stream::iter(messages).map(Ok))
        }
        resource::Body::Parts(rx) => {
            let stream =
                futures::stream::unfold((rx, true, false), move |(mut rx, first, done)| {
                    let headers = headers.clone();
                    async move {
                        if done {
                            return None;
                        }
                        match rx.recv().await {
                            Some(Ok(part)) => {
                                Some((Ok(message(first, part, &headers)), (rx, false, false)))
                            }
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "a streamed resource answer failed");
                                Some((Err(Status::internal(e.to_string())), (rx, false, true)))
                            }
                            // An empty answer still carries its status and headers.
                            None if first => {
                                Some((Ok(message(true, Vec::new(), &headers)), (rx, false, true)))
                            }
                            None => None,
                        }
                    }
                });
            Box::pin(stream)
        }
    }
}

#[tonic::async_trait]
impl resource_server::Resource for ResourceService {
    type CallResourceStream = Parts;

    async fn call_resource(
        &self,
        request: Request<pluginv2::CallResourceRequest>,
    ) -> Result<Response<Self::CallResourceStream>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let (label, response) = match RequestContext::from_proto(req.plugin_context.as_ref()) {
            Ok(ctx) => {
                let r = ResourceRequest {
                    method: req.method.clone(),
                    path: req.path.clone(),
                    url: req.url.clone(),
                    body: req.body.to_vec(),
                };
                resource::handle(&self.state, &ctx, &r).await
            }
            Err(e) => {
                let (status, body) = super::error::http_error(&e);
                let segments = resource::segments_of(&req.path, &req.url);
                let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
                (
                    resource::route_label(&req.method.to_ascii_uppercase(), &segments),
                    resource::ResourceResponse::json(status, &body),
                )
            }
        };
        self.state
            .metrics
            .observe("resource", label, started.elapsed(), response.status >= 400);
        Ok(Response::new(parts(response)))
    }
}

/// The Diagnostics service.
pub struct DiagnosticsService {
    state: Arc<PluginState>,
}

#[tonic::async_trait]
impl diagnostics_server::Diagnostics for DiagnosticsService {
    async fn check_health(
        &self,
        request: Request<pluginv2::CheckHealthRequest>,
    ) -> Result<Response<CheckHealthResponse>, Status> {
        let started = Instant::now();
        let req = request.into_inner();
        let health = match RequestContext::from_proto(req.plugin_context.as_ref()) {
            Ok(ctx) => diagnostics::check_health(&self.state, &ctx).await,
            Err(e) => diagnostics::Health {
                ok: false,
                message: e.to_string(),
                details: serde_json::json!({"error": e.to_string()}),
            },
        };
        self.state
            .metrics
            .observe("health", "check", started.elapsed(), !health.ok);
        Ok(Response::new(CheckHealthResponse {
            status: if health.ok {
                pluginv2::check_health_response::HealthStatus::Ok as i32
            } else {
                pluginv2::check_health_response::HealthStatus::Error as i32
            },
            message: health.message,
            json_details: serde_json::to_vec(&health.details).unwrap_or_default(),
        }))
    }

    async fn collect_metrics(
        &self,
        _request: Request<pluginv2::CollectMetricsRequest>,
    ) -> Result<Response<CollectMetricsResponse>, Status> {
        Ok(Response::new(CollectMetricsResponse {
            metrics: Some(pluginv2::collect_metrics_response::Payload {
                prometheus: diagnostics::collect_metrics(&self.state),
            }),
        }))
    }
}

/// go-plugin's variables for the ports a plugin may listen on (Grafana passes them on).
pub const ENV_MIN_PORT: &str = "PLUGIN_MIN_PORT";
/// See [`ENV_MIN_PORT`].
pub const ENV_MAX_PORT: &str = "PLUGIN_MAX_PORT";

/// The ports go-plugin allows: `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`, an unset one counting
/// as 0 (both unset: any port the system gives), as go-plugin's own `serverListener_tcp`.
pub fn port_range(min: Option<&str>, max: Option<&str>) -> Result<(u16, u16), String> {
    let port = |name: &str, v: Option<&str>| -> Result<u16, String> {
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(0),
            Some(v) => v
                .parse::<u16>()
                .map_err(|_| format!("{name} {v:?} is not a port number (0 to 65535)")),
        }
    };
    let (lo, hi) = (port(ENV_MIN_PORT, min)?, port(ENV_MAX_PORT, max)?);
    if lo > hi {
        return Err(format!(
            "{ENV_MIN_PORT} value of {lo} is greater than {ENV_MAX_PORT} value of {hi}"
        ));
    }
    Ok((lo, hi))
}

/// Listens on 127.0.0.1 at the first free port of `range` (issue 11: the SDK's
/// `initialize()` ignored go-plugin's range) and prints go-plugin's handshake line, by
/// which Grafana finds the plugin.
pub async fn listen((lo, hi): (u16, u16)) -> Result<TcpListener, String> {
    let mut last = None;
    for port in lo..=hi {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => {
                let addr = listener
                    .local_addr()
                    .map_err(|e| format!("cannot read the address listened on: {e}"))?;
                println!("1|2|tcp|{addr}|grpc");
                return Ok(listener);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(format!(
        "cannot listen on any port from {lo} to {hi} ({ENV_MIN_PORT}..{ENV_MAX_PORT}){}",
        last.map(|e| format!(": {e}")).unwrap_or_default()
    ))
}

/// Serves every service on `listener` until `stop` is notified (go-plugin's Shutdown, or a
/// signal), then writes pending views. Returns once everything is flushed.
pub async fn serve(
    state: Arc<PluginState>,
    listener: TcpListener,
    stop: Arc<Notify>,
) -> Result<(), AppError> {
    let (mut health, health_service) = tonic_health::server::health_reporter();
    // go-plugin's Ping asks for the service named "plugin".
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let data = data_server::DataServer::new(DataFront {
        handler: DataHandler {
            state: state.clone(),
        },
    })
    .max_decoding_message_size(MAX_MESSAGE);
    let resources = resource_server::ResourceServer::new(ResourceService {
        state: state.clone(),
    })
    .max_decoding_message_size(MAX_MESSAGE);
    let diagnostics = diagnostics_server::DiagnosticsServer::new(DiagnosticsService {
        state: state.clone(),
    })
    .max_decoding_message_size(MAX_MESSAGE);
    // Small gRPC messages must not wait for Nagle's algorithm (40 ms per round trip).
    let incoming = TcpListenerStream::new(listener).map(|conn| {
        if let Ok(c) = &conn {
            let _ = c.set_nodelay(true);
        }
        conn
    });
    let shutdown = {
        let stop = stop.clone();
        async move { stop.notified().await }
    };
    let result = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(super::controller::ControllerServer::new(stop.clone()))
        .add_service(data)
        .add_service(resources)
        .add_service(diagnostics)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    state.instances.flush().await;
    result.map_err(|e| AppError::Internal(format!("the gRPC server failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_range_is_go_plugins() {
        assert_eq!(port_range(None, None), Ok((0, 0)));
        assert_eq!(port_range(Some("10000"), Some("10010")), Ok((10000, 10010)));
        assert_eq!(port_range(Some(""), Some(" ")), Ok((0, 0)));
        assert!(port_range(Some("10010"), Some("10000"))
            .expect_err("reversed")
            .contains("greater"));
        assert!(
            port_range(Some("10000"), None).is_err(),
            "as go-plugin: max 0"
        );
        assert!(port_range(Some("x"), Some("70000"))
            .expect_err("bad")
            .contains("PLUGIN_MIN_PORT"));
    }
}
