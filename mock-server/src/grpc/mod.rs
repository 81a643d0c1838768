//! gRPC front end: assembles every Momento service the mock speaks into one tonic [`Routes`],
//! each wrapped in the auth interceptor and the message-size bounds, and maps state errors to
//! the status codes Momento's SDKs expect. One module per service.

pub mod control;
pub mod ping;
pub mod pubsub;
pub mod topics;
pub mod webhook;

use tonic::service::interceptor::InterceptedService;
use tonic::service::Routes;
use tonic::Status;

use crate::auth::Auth;
use crate::config::Config;
use crate::state::{SharedState, StateError};

/// What every gRPC service is built from.
#[derive(Debug, Clone)]
pub(crate) struct GrpcContext {
    pub state: SharedState,
    pub auth: Auth,
    pub config: Config,
    /// Webhook registry and fan-out (`webhook.Webhook`).
    pub webhooks: crate::webhooks::Webhooks,
    /// Topics: logs, subscribers, declarations (`cache_client.pubsub.Pubsub`, the topic extension).
    pub topics: crate::pubsub::TopicHub,
}

/// All gRPC services of the mock. Each is reached at `/<package>.<Service>/<Method>`.
pub(crate) fn routes(ctx: &GrpcContext) -> Routes {
    let max = ctx.config.grpc_max_message_bytes;

    let control = momento_protos::control_client::scs_control_server::ScsControlServer::new(
        control::ControlService::new(ctx.state.clone(), ctx.config.list_caches_page_size),
    )
    .max_decoding_message_size(max)
    .max_encoding_message_size(max);

    let ping = crate::proto::cache_client::ping_server::PingServer::new(ping::PingService)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);

    let webhook = crate::proto::webhook::webhook_server::WebhookServer::new(
        webhook::WebhookService::new(ctx.webhooks.clone()),
    )
    .max_decoding_message_size(max)
    .max_encoding_message_size(max);

    let pubsub = momento_protos::cache_client::pubsub::pubsub_server::PubsubServer::new(
        pubsub::PubsubService::new(ctx.topics.clone()),
    )
    .max_decoding_message_size(max)
    .max_encoding_message_size(max);

    let topics = crate::proto::topics::topics_server::TopicsServer::new(
        topics::TopicsService::new(ctx.topics.clone()),
    )
    .max_decoding_message_size(max)
    .max_encoding_message_size(max);

    let routes = Routes::new(InterceptedService::new(control, ctx.auth.clone()))
        .add_service(InterceptedService::new(ping, ctx.auth.clone()))
        .add_service(InterceptedService::new(webhook, ctx.auth.clone()))
        .add_service(InterceptedService::new(pubsub, ctx.auth.clone()));
    if ctx.config.topic_extension {
        routes.add_service(InterceptedService::new(topics, ctx.auth.clone()))
    } else {
        // Like real Momento: the topic RPCs answer UNIMPLEMENTED (through the fallback).
        routes
    }
}

impl From<StateError> for Status {
    fn from(err: StateError) -> Self {
        let message = err.to_string();
        match err {
            StateError::InvalidCacheName(_) | StateError::EmptyTopicName => {
                Status::invalid_argument(message)
            }
            StateError::CacheAlreadyExists(_) => Status::already_exists(message),
            StateError::CacheNotFound(_) => Status::not_found(message),
        }
    }
}

/// `UNIMPLEMENTED` for an RPC the mock does not serve, naming it.
pub(crate) fn unimplemented(rpc: &str) -> Status {
    Status::unimplemented(format!("momento-mock does not implement {rpc}"))
}

/// The whole gRPC response for a path that no service claims.
pub(crate) fn unknown_path_response(path: &str) -> axum::response::Response {
    let shown: String = path.chars().take(200).collect();
    unimplemented(&shown).into_http::<axum::body::Body>()
}

/// Whether a request is gRPC (by its content type), so unknown paths get a gRPC answer.
pub(crate) fn is_grpc_request(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}
