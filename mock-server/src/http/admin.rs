//! The `/_mock` admin API, for tests and operators: health, reset, and views of the state.
//! Not part of Momento; never requires a token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::state::SharedState;

/// The `/_mock/*` routes.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/_mock/health", get(health))
        .route("/_mock/reset", post(reset))
        .route("/_mock/caches", get(caches))
}

/// Body of `GET /_mock/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// `GET /_mock/health` → `200 {"status":"ok","version":"…"}`.
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// `POST /_mock/reset` → `204`: forgets every cache (and everything caches own), the webhook
/// delivery journal and what the built-in receivers (`/_mock/sink/*`) got.
async fn reset(
    State(state): State<SharedState>,
    webhooks: Option<axum::Extension<crate::webhooks::Webhooks>>,
) -> StatusCode {
    state.reset();
    if let Some(axum::Extension(webhooks)) = webhooks {
        webhooks.clear_records();
    }
    tracing::info!("state reset through /_mock/reset");
    StatusCode::NO_CONTENT
}

/// Body of `GET /_mock/caches`.
#[derive(Debug, Serialize)]
pub struct CacheList {
    /// Cache names, sorted.
    pub caches: Vec<String>,
}

/// `GET /_mock/caches` → `200 {"caches":["a","b"]}`.
async fn caches(State(state): State<SharedState>) -> Json<CacheList> {
    Json(CacheList {
        caches: state.cache_names(),
    })
}
