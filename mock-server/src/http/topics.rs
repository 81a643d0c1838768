//! Momento's HTTP API for topics, on the mock's one port:
//!
//! - `POST /topics/{cache}/{topic}` publishes the body: `Content-Type: text/plain` (any charset
//!   parameter; the body must be UTF-8) as text, `application/octet-stream` as bytes. `204` when
//!   published; `400` bad request (both token forms, body not UTF-8, invalid cache name); `401`
//!   missing or wrong token; `404` unknown cache, or undeclared topic under `--strict-topics`;
//!   `415` any other or no content type; `429` body over `--max-message-bytes`.
//! - `GET /topics/{cache}/{topic}?sequence_number=N&sequence_page=P&timeout_ms=T` long-polls:
//!   answers as soon as items at or after position `N` (the next number wanted, as in gRPC's
//!   `resume_at_topic_sequence_number`; 0 or absent: from now) exist in page `P` (0 or absent:
//!   the current page), or with no items after `T` ms (default 5000, at most 60000). Body:
//!   `{"items":[{"item":{"topic_sequence_number":1,"sequence_page":P,"value":{"text":"hi"}}},
//!   {"discontinuity":{"last_topic_sequence":..,"new_topic_sequence":..,"new_sequence_page":..}}]}`;
//!   binary values are `{"binary":"<standard base64>"}`. A client continues with
//!   `sequence_number` = last item's number + 1 (or a discontinuity's `new_topic_sequence` + 1).
//!   `429` when the topic has `--max-subscriptions-per-topic` subscriptions already.
//!
//! Both take the token (when the mock enforces one) in the `Authorization` header or the `token`
//! query parameter, never both. Errors are JSON `{"error":"<code>","message":"<what happened>"}`;
//! tokens are never echoed.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures::StreamExt;
use serde::Serialize;

use super::ApiError;
use crate::auth::Auth;
use crate::events::TopicValue;
use crate::pubsub::{
    publisher_id_from_token, PubSubError, SubscriptionEnd, SubscriptionEvent, TopicHub,
};

/// Long-poll wait when the request names none.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest long-poll wait a request may ask for.
pub const MAX_POLL_TIMEOUT: Duration = Duration::from_secs(60);

const ACCEPTED_TYPES: &str =
    "text/plain (UTF-8 text; any charset parameter) or application/octet-stream (bytes)";

#[derive(Debug, Clone)]
struct TopicsApi {
    hub: TopicHub,
    auth: Auth,
}

/// The `/topics/{cache}/{topic}` routes.
pub(crate) fn routes(hub: TopicHub, auth: Auth) -> Router {
    Router::new()
        .route("/topics/{cache}/{topic}", post(publish).get(long_poll))
        .with_state(TopicsApi { hub, auth })
}

type Params = HashMap<String, String>;

async fn publish(
    State(api): State<TopicsApi>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match publish_inner(&api, path, query, &headers, body).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => err.into_response(),
    }
}

async fn publish_inner(
    api: &TopicsApi,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ApiError> {
    let Path((cache, topic)) = path.map_err(|e| bad_request(format!("invalid path: {e}")))?;
    let Query(params) = query.map_err(|e| bad_request(format!("invalid query: {e}")))?;
    let token = authenticate(&api.auth, headers, &params)?;
    let kind = content_kind(headers)?;
    let limit = api.hub.settings().max_message_bytes;
    let bytes = read_body(body, headers, limit).await?;
    let value = match kind {
        Kind::Text => TopicValue::Text(String::from_utf8(bytes).map_err(|e| {
            bad_request(format!(
                "the body is not UTF-8 (invalid byte at offset {}); send text as UTF-8, or bytes as application/octet-stream",
                e.utf8_error().valid_up_to()
            ))
        })?),
        Kind::Binary => TopicValue::Binary(bytes),
    };
    let publisher_id = publisher_id_from_token(token.as_deref());
    api.hub
        .publish(&cache, &topic, value, &publisher_id)
        .map(|_| ())
        .map_err(api_error)
}

async fn long_poll(
    State(api): State<TopicsApi>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    match long_poll_inner(&api, path, query, &headers).await {
        Ok(body) => Json(body).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn long_poll_inner(
    api: &TopicsApi,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Params>, QueryRejection>,
    headers: &HeaderMap,
) -> Result<PollBody, ApiError> {
    let Path((cache, topic)) = path.map_err(|e| bad_request(format!("invalid path: {e}")))?;
    let Query(params) = query.map_err(|e| bad_request(format!("invalid query: {e}")))?;
    authenticate(&api.auth, headers, &params)?;
    let sequence_number = number_param(&params, "sequence_number")?.unwrap_or(0);
    let sequence_page = number_param(&params, "sequence_page")?.unwrap_or(0);
    let timeout = match number_param(&params, "timeout_ms")? {
        None => DEFAULT_POLL_TIMEOUT,
        Some(ms) if u128::from(ms) <= MAX_POLL_TIMEOUT.as_millis() => Duration::from_millis(ms),
        Some(ms) => {
            return Err(bad_request(format!(
                "timeout_ms={ms} is too long: at most {} ms",
                MAX_POLL_TIMEOUT.as_millis()
            )))
        }
    };

    let mut subscription = api
        .hub
        .subscribe(&cache, &topic, sequence_number, sequence_page)
        .map_err(api_error)?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut items = Vec::new();
    loop {
        while let Some(event) = subscription.try_next() {
            items.extend(PollItem::from_event(event));
        }
        if !items.is_empty() {
            break;
        }
        match tokio::time::timeout_at(deadline, subscription.next()).await {
            Err(_elapsed) => break,
            Ok(Ok(event)) => items.extend(PollItem::from_event(event)),
            Ok(Err(SubscriptionEnd::CacheDeleted)) => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("cache {cache:?} was deleted while polling"),
                ))
            }
            // Shutdown, or the topic was deleted (the next poll learns its new page).
            Ok(Err(_)) => break,
        }
    }
    Ok(PollBody { items })
}

/// Checks the token (header or `token` query parameter, not both) and returns it, for the
/// publisher id.
fn authenticate(
    auth: &Auth,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Option<Vec<u8>>, ApiError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let from_query = params.get("token").map(|t| t.as_bytes().to_vec());
    let token = match (from_header, from_query) {
        (Some(_), Some(_)) => {
            return Err(bad_request(
                "the token is given twice: pass it either in the Authorization header or in the token query parameter, not both",
            ))
        }
        (header, query) => header.or(query),
    };
    match auth.check_token(token.as_deref()) {
        Ok(()) => Ok(token),
        Err(crate::auth::AuthError::Missing) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "authentication required: this momento-mock was started with an auth token; pass it in the Authorization header (no Bearer prefix) or the token query parameter",
        )),
        Err(crate::auth::AuthError::Invalid) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "invalid auth token: it does not match the token this momento-mock was started with",
        )),
    }
}

enum Kind {
    Text,
    Binary,
}

fn content_kind(headers: &HeaderMap) -> Result<Kind, ApiError> {
    let unsupported = |what: String| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("{what}; publish with Content-Type {ACCEPTED_TYPES}"),
        )
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(unsupported("the request has no Content-Type".to_owned()));
    };
    let essence = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "text/plain" => Ok(Kind::Text),
        "application/octet-stream" => Ok(Kind::Binary),
        _ => {
            let shown: String = String::from_utf8_lossy(value.as_bytes())
                .chars()
                .take(100)
                .collect();
            Err(unsupported(format!(
                "Content-Type {shown:?} is not accepted"
            )))
        }
    }
}

/// Reads at most `limit` bytes; more is `429` naming the size (from `Content-Length` when the
/// client sent one) and the flag.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|&size| size > limit) {
        return Err(too_large(size, true, limit));
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| bad_request(format!("cannot read the request body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large(bytes.len() + chunk.len(), false, limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn too_large(size: usize, exact: bool, limit: usize) -> ApiError {
    api_error(PubSubError::MessageTooLarge { size, exact, limit })
}

fn number_param(params: &Params, name: &str) -> Result<Option<u64>, ApiError> {
    match params.get(name) {
        None => Ok(None),
        Some(raw) if raw.is_empty() => Ok(None),
        Some(raw) => raw.parse::<u64>().map(Some).map_err(|_| {
            let shown: String = raw.chars().take(40).collect();
            bad_request(format!("{name}={shown:?} is not a non-negative integer"))
        }),
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// A hub error as Momento's HTTP API answers it (`RESOURCE_EXHAUSTED` is 429).
fn api_error(err: PubSubError) -> ApiError {
    let message = err.to_string();
    let (status, code) = match err {
        PubSubError::InvalidCacheName(_)
        | PubSubError::EmptyTopicName
        | PubSubError::MissingValue => (StatusCode::BAD_REQUEST, "bad_request"),
        PubSubError::CacheNotFound(_)
        | PubSubError::TopicNotFound { .. }
        | PubSubError::TopicNotDeclaredForDelete { .. } => (StatusCode::NOT_FOUND, "not_found"),
        PubSubError::TopicNotDeclared { .. } => (StatusCode::NOT_FOUND, "topic_not_declared"),
        PubSubError::TopicAlreadyDeclared { .. } => (StatusCode::CONFLICT, "already_exists"),
        PubSubError::MessageTooLarge { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            crate::grpc::pubsub::ERR_REQUEST_SIZE_LIMIT,
        ),
        PubSubError::TooManySubscriptions { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            crate::grpc::pubsub::ERR_SUBSCRIPTIONS_LIMIT,
        ),
    };
    ApiError::new(status, code, message)
}

/// Body of a long-poll answer.
#[derive(Debug, Serialize)]
struct PollBody {
    items: Vec<PollItem>,
}

/// `{"item":{..}}` or `{"discontinuity":{..}}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum PollItem {
    Item {
        topic_sequence_number: u64,
        sequence_page: u64,
        value: PollValue,
    },
    Discontinuity {
        last_topic_sequence: u64,
        new_topic_sequence: u64,
        new_sequence_page: u64,
    },
}

/// `{"text":".."}` or `{"binary":"<base64>"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum PollValue {
    Text(String),
    Binary(String),
}

impl PollItem {
    fn from_event(event: SubscriptionEvent) -> Option<Self> {
        match event {
            SubscriptionEvent::Heartbeat => None,
            SubscriptionEvent::Item(message) => Some(PollItem::Item {
                topic_sequence_number: message.topic_sequence_number,
                sequence_page: message.sequence_page,
                value: match &message.value {
                    TopicValue::Text(text) => PollValue::Text(text.clone()),
                    TopicValue::Binary(bytes) => PollValue::Binary(STANDARD.encode(bytes)),
                },
            }),
            SubscriptionEvent::Discontinuity(d) => Some(PollItem::Discontinuity {
                last_topic_sequence: d.last_topic_sequence,
                new_topic_sequence: d.new_topic_sequence,
                new_sequence_page: d.new_sequence_page,
            }),
        }
    }
}
