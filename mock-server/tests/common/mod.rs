//! Helpers shared by the integration tests: start a mock on a free port, connect the generated
//! gRPC clients, and make plain HTTP/1.1 requests. Every wait is bounded by [`TIMEOUT`].
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use momento_mock::{Config, RunningMock};
use tonic::transport::{Channel, Endpoint};

/// Generous bound for any single step; a loaded 2-core machine can be slow, never this slow.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Awaits `fut`, failing the test (with `what`) if it takes longer than [`TIMEOUT`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, fut).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {TIMEOUT:?}: {what}"),
    }
}

/// A mock with default settings on `127.0.0.1:0`.
pub async fn start_mock() -> RunningMock {
    start_mock_with(Config::ephemeral()).await
}

/// A mock with `config` (whose `listen` should be port 0).
pub async fn start_mock_with(config: Config) -> RunningMock {
    within("start the mock", momento_mock::start(config))
        .await
        .expect("mock starts")
}

/// A plaintext HTTP/2 channel to the mock.
pub async fn channel(mock: &RunningMock) -> Channel {
    channel_to(&mock.endpoint()).await
}

/// A plaintext HTTP/2 channel to `endpoint` (`http://host:port`).
pub async fn channel_to(endpoint: &str) -> Channel {
    let endpoint = Endpoint::from_shared(endpoint.to_owned())
        .expect("valid endpoint")
        .connect_timeout(TIMEOUT)
        .tcp_nodelay(true);
    within("connect a gRPC channel", endpoint.connect())
        .await
        .expect("gRPC channel connects")
}

/// A plain HTTP/1.1 response: status, content type and body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

impl HttpResponse {
    /// The body as JSON (panics with the body if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", self.body))
    }
}

/// Sends one bodiless HTTP/1.1 request to the mock on a fresh connection.
pub async fn http(mock: &RunningMock, method: &str, path: &str) -> HttpResponse {
    within(&format!("HTTP {method} {path}"), async {
        let stream = tokio::net::TcpStream::connect(mock.addr())
            .await
            .expect("TCP connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(conn);
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, mock.addr().to_string())
            .body(Empty::<Bytes>::new())
            .expect("valid request");
        let response = sender.send_request(request).await.expect("HTTP response");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("HTTP body")
            .to_bytes();
        HttpResponse {
            status,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    })
    .await
}
