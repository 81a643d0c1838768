//! HTTP front end: the plain-HTTP routes (the `/_mock` admin API, Momento's HTTP topics API in
//! [`topics`]), JSON errors, and the fallback that answers unknown paths (404 JSON, or
//! `UNIMPLEMENTED` when the request is gRPC).

pub mod admin;
pub mod deliveries;
pub mod sink;
pub mod topics;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;

use crate::state::SharedState;

/// Every plain-HTTP route of the mock (no fallback: see [`fallback`]).
pub(crate) fn routes(state: SharedState) -> Router {
    Router::new().merge(admin::routes()).with_state(state)
}

/// An HTTP error as JSON: `{"error": "<code>", "message": "<what happened>"}`.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// Short machine-readable code, e.g. `not_found`.
    pub error: &'static str,
    /// What happened, for a person.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

/// Answers any request no route claims: gRPC requests get `UNIMPLEMENTED` naming the path,
/// everything else a 404 JSON error.
pub(crate) async fn fallback(request: Request) -> Response {
    let path = request.uri().path();
    if crate::grpc::is_grpc_request(request.headers()) {
        tracing::debug!(path, "gRPC call to an unknown service");
        return crate::grpc::unknown_path_response(path);
    }
    let shown: String = path.chars().take(200).collect();
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {shown}", request.method()),
    )
    .into_response()
}

/// Answers a known path called with the wrong method.
pub(crate) async fn method_not_allowed(request: Request) -> Response {
    let shown: String = request.uri().path().chars().take(200).collect();
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {shown}", request.method()),
    )
    .into_response()
}
