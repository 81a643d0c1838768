//! `GET /_mock/deliveries`: the webhook delivery journal over HTTP, with filters and a long-poll
//! (`min_count`, `timeout_ms`) that wakes on new entries.
//!
//! Query: `cache`, `topic`, `webhook`, `outcome` (`delivered`|`failed`|`dropped`), `error`
//! (an error kind such as `timeout`), `after_id`, `min_count` (default 0: answer at once),
//! `timeout_ms` (default 10000, at most 60000). Answer: `200 {"deliveries":[entry…],
//! "count":n,"timed_out":bool}`, entries oldest first, each
//! `{"id","cache","topic","webhook","url","topic_sequence_number","attempt","started_at_ms",
//! "duration_ms","status","error","detail","outcome","retrying"}`.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::http::ApiError;
use crate::webhooks::{DeliveryFilter, ErrorKind, Outcome, Webhooks};

/// Wait used when `min_count` is given without `timeout_ms`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The route, with its own state; merge into any router.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(webhooks: Webhooks) -> Router<S> {
    Router::new()
        .route("/_mock/deliveries", get(deliveries))
        .with_state(webhooks)
}

fn bad(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
}

fn number<T: std::str::FromStr>(
    query: &HashMap<String, String>,
    key: &str,
) -> Result<Option<T>, ApiError> {
    match query.get(key) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            let shown: String = text.chars().take(40).collect();
            bad(format!("{key}={shown:?} is not a non-negative integer"))
        }),
    }
}

/// Parses the query into a filter, a count and a timeout.
fn parse(query: &HashMap<String, String>) -> Result<(DeliveryFilter, usize, Duration), ApiError> {
    let outcome = match query.get("outcome") {
        None => None,
        Some(text) => Some(Outcome::parse(text).ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            bad(format!(
                "outcome={shown:?} is not one of delivered, failed, dropped"
            ))
        })?),
    };
    let error = match query.get("error") {
        None => None,
        Some(text) => Some(ErrorKind::parse(text).ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            bad(format!(
                "error={shown:?} is not one of timeout, connect, http_status, request, queue_full, rate_limited, webhook_deleted, shutdown"
            ))
        })?),
    };
    let filter = DeliveryFilter {
        cache: query.get("cache").cloned(),
        topic: query.get("topic").cloned(),
        webhook: query.get("webhook").cloned(),
        outcome,
        error,
        after_id: number(query, "after_id")?,
    };
    let min_count = number::<usize>(query, "min_count")?.unwrap_or(0);
    let timeout = number::<u64>(query, "timeout_ms")?
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_TIMEOUT);
    Ok((filter, min_count, timeout))
}

async fn deliveries(
    State(webhooks): State<Webhooks>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (filter, min_count, timeout) = match parse(&query) {
        Ok(parsed) => parsed,
        Err(error) => return error.into_response(),
    };
    Json(webhooks.journal().wait(&filter, min_count, timeout).await).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_filters() {
        let (filter, n, timeout) = parse(&q(&[
            ("cache", "c"),
            ("outcome", "failed"),
            ("error", "timeout"),
            ("min_count", "3"),
            ("timeout_ms", "250"),
            ("after_id", "7"),
        ]))
        .unwrap();
        assert_eq!(filter.cache.as_deref(), Some("c"));
        assert_eq!(filter.outcome, Some(Outcome::Failed));
        assert_eq!(filter.error, Some(ErrorKind::Timeout));
        assert_eq!(filter.after_id, Some(7));
        assert_eq!((n, timeout), (3, Duration::from_millis(250)));
        assert!(parse(&q(&[("outcome", "nope")])).is_err());
        assert!(parse(&q(&[("min_count", "-1")])).is_err());
        assert!(parse(&q(&[("error", "x")])).is_err());
    }
}
