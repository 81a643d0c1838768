//! `/_mock/sink/{name}`: the built-in webhook receiver, so demos need no other server.
//!
//! - `POST` records the request and answers `204`: method, the headers `content-type`,
//!   `user-agent` and `momento-signature`, the raw body, the arrival time and
//!   `signature_valid` (checked against the current secret of the webhooks whose destination
//!   path is this path, any host and port; `null` when none points here).
//! - `GET` answers `200 {"requests":[{"method","headers":{"content-type","user-agent",
//!   "momento-signature"},"body","body_truncated","received_at_ms","signature_valid"}…],
//!   "count":n,"timed_out":b}` (the last 1000, oldest first; bodies cut at 16 KiB);
//!   `?min_count=N&timeout_ms=T` long-polls until N arrived.
//! - `DELETE` forgets them (`204`).

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::http::ApiError;
use crate::webhooks::{SinkHeaders, SinkRequest, Webhooks};

/// Wait used when `min_count` is given without `timeout_ms`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The routes, with their own state; merge into any router.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(webhooks: Webhooks) -> Router<S> {
    Router::new()
        .route("/_mock/sink/{name}", get(list).post(receive).delete(clear))
        .with_state(webhooks)
}

/// Body of `GET /_mock/sink/{name}`.
#[derive(Debug, Serialize)]
pub struct SinkList {
    pub requests: Vec<SinkRequest>,
    pub count: usize,
    pub timed_out: bool,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

async fn receive(
    State(webhooks): State<Webhooks>,
    Path(name): Path<String>,
    uri: Uri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = SinkHeaders {
        content_type: header(&headers, "content-type"),
        user_agent: header(&headers, "user-agent"),
        momento_signature: header(&headers, "momento-signature"),
    };
    match webhooks.receive(&name, uri.path(), method.as_str(), recorded, &body) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "too_many_sinks",
            err.to_string(),
        )
        .into_response(),
    }
}

async fn list(
    State(webhooks): State<Webhooks>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let parse = |key: &str| -> Result<Option<u64>, ApiError> {
        match query.get(key) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                let shown: String = text.chars().take(40).collect();
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_argument",
                    format!("{key}={shown:?} is not a non-negative integer"),
                )
            }),
        }
    };
    let (min_count, timeout) = match (parse("min_count"), parse("timeout_ms")) {
        (Ok(n), Ok(t)) => (
            usize::try_from(n.unwrap_or(0)).unwrap_or(usize::MAX),
            t.map(Duration::from_millis).unwrap_or(DEFAULT_TIMEOUT),
        ),
        (Err(error), _) | (_, Err(error)) => return error.into_response(),
    };
    let (requests, timed_out) = webhooks.sinks().wait(&name, min_count, timeout).await;
    Json(SinkList {
        count: requests.len(),
        requests,
        timed_out,
    })
    .into_response()
}

async fn clear(State(webhooks): State<Webhooks>, Path(name): Path<String>) -> StatusCode {
    webhooks.sinks().clear(&name);
    StatusCode::NO_CONTENT
}
