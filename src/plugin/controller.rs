//! go-plugin's `plugin.GRPCController/Shutdown`, which Grafana calls to stop a plugin: we
//! answer it by starting a graceful stop, so pending passive views are written first.
//! (The SDK does not provide this service; its shape is go-plugin's `grpc_controller.proto`.)

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Notify;
use tonic::codegen::{empty_body, BoxFuture, StdError};

/// go-plugin's `Empty` message.
#[derive(Clone, Copy, PartialEq, ::prost::Message)]
pub struct Empty {}

/// The controller service; `Shutdown` notifies `stop`.
#[derive(Clone, Debug)]
pub struct ControllerServer {
    stop: Arc<Notify>,
}

impl ControllerServer {
    /// A controller that signals `stop`.
    pub fn new(stop: Arc<Notify>) -> Self {
        Self { stop }
    }
}

impl tonic::server::NamedService for ControllerServer {
    const NAME: &'static str = "plugin.GRPCController";
}

struct ShutdownCall(Arc<Notify>);

impl tonic::server::UnaryService<Empty> for ShutdownCall {
    type Response = Empty;
    type Future = BoxFuture<tonic::Response<Empty>, tonic::Status>;

    fn call(&mut self, _request: tonic::Request<Empty>) -> Self::Future {
        let stop = self.0.clone();
        Box::pin(async move {
            stop.notify_one();
            Ok(tonic::Response::new(Empty {}))
        })
    }
}

impl<B> tower::Service<http::Request<B>> for ControllerServer
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() == "/plugin.GRPCController/Shutdown" {
            let call = ShutdownCall(self.stop.clone());
            return Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(tonic::codec::ProstCodec::default());
                Ok(grpc.unary(call, req).await)
            });
        }
        Box::pin(async move {
            let mut response = http::Response::new(empty_body());
            let headers = response.headers_mut();
            headers.insert(
                "grpc-status",
                http::HeaderValue::from(tonic::Code::Unimplemented as i32),
            );
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/grpc"),
            );
            Ok(response)
        })
    }
}
