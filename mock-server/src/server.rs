//! Serving: binds the listener, puts gRPC and HTTP on one router (HTTP/1.1 and h2c on the same
//! port, TCP_NODELAY on every accepted socket), runs it, and shuts it down ([`RunningMock`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::config::Config;
use crate::events::Deliveries;
use crate::grpc::{self, GrpcContext};
use crate::pubsub::TopicHub;
use crate::state::SharedState;
use crate::webhooks::{Journal, Webhooks};
use crate::{http, Error};

/// A mock server that is listening. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct RunningMock {
    addr: SocketAddr,
    state: SharedState,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
    grace: Duration,
    webhooks: Webhooks,
    topics: TopicHub,
}

/// Binds `config.listen`, starts serving in the background, and returns once the socket listens:
/// clients may connect as soon as this returns. Must be called within a Tokio runtime.
pub async fn start(config: Config) -> Result<RunningMock, Error> {
    start_with_state(config, SharedState::new()).await
}

/// Like [`start`], over existing state (e.g. prepared by a test before the server starts).
pub async fn start_with_state(config: Config, state: SharedState) -> Result<RunningMock, Error> {
    config.validate()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::LocalAddr)?;

    let webhooks = Webhooks::new(&config, state.clone())?;
    let shutdown = CancellationToken::new();
    let deliveries: Arc<dyn Deliveries> = Arc::new(webhooks.clone());
    let topics = TopicHub::from_config(&config, state.clone(), deliveries, shutdown.clone());
    let router = router(&config, &state, &webhooks, &topics);
    let grace = config.shutdown_grace;

    // Nagle + delayed ACK costs ~40 ms per small request/response pair: disable it per socket.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY on an accepted socket: {err}");
        }
    });
    let signal = shutdown.clone();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, router)
            .with_graceful_shutdown(async move { signal.cancelled_owned().await });
        if let Err(err) = serve.await {
            tracing::error!("server stopped with an error: {err}");
        }
    });

    tracing::info!(
        %addr,
        auth = if config.auth_token.is_some() { "token required" } else { "open" },
        "momento-mock serving gRPC and HTTP"
    );
    Ok(RunningMock {
        addr,
        state,
        shutdown,
        task: Some(task),
        grace,
        webhooks,
        topics,
    })
}

/// gRPC services and HTTP routes on one axum router; gRPC requests are recognised by path
/// (`/<package>.<Service>/<Method>`), unknown paths by content type (see [`http::fallback`]).
fn router(config: &Config, state: &SharedState, webhooks: &Webhooks, topics: &TopicHub) -> Router {
    let ctx = GrpcContext {
        state: state.clone(),
        auth: Auth::new(config.auth_token.as_deref()),
        config: config.clone(),
        webhooks: webhooks.clone(),
        topics: topics.clone(),
    };
    grpc::routes(&ctx)
        .prepare()
        .into_axum_router()
        .merge(http::routes(state.clone()))
        .merge(http::deliveries::routes(webhooks.clone()))
        .merge(http::sink::routes(webhooks.clone()))
        .merge(http::topics::routes(topics.clone(), ctx.auth.clone()))
        // Replaces tonic's own fallback (a bare UNIMPLEMENTED for every unknown path).
        .fallback(http::fallback)
        .method_not_allowed_fallback(http::method_not_allowed)
        // For handlers outside the webhook routes that act on webhooks too (`/_mock/reset`).
        .layer(axum::Extension(webhooks.clone()))
}

impl RunningMock {
    /// The address actually bound (the real port when the config asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`: what a tonic `Channel` or an HTTP client connects to.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The live state, for out-of-band changes and checks in tests.
    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// The webhook registry and fan-out engine (its journal, sinks and counters).
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// The webhook delivery journal: wait for deliveries in-process with
    /// `mock.deliveries().wait_for(&DeliveryFilter::all().webhook("w"), n, timeout).await`.
    pub fn deliveries(&self) -> &Journal {
        self.webhooks.journal()
    }

    /// The pub/sub data plane: publish and subscribe in-process, inspect topics and their
    /// counters, e.g. `mock.topics().publish("cache", "topic", TopicValue::Text("hi".into()), "")`
    /// (`TopicValue` is [`crate::events::TopicValue`]).
    pub fn topics(&self) -> &TopicHub {
        &self.topics
    }

    /// A token that is cancelled when the server begins to shut down (for long-lived work,
    /// e.g. streams, that must end with it).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets open connections and in-flight webhook deliveries finish for up to
    /// the configured grace period, then drops whatever is left (undelivered webhook messages
    /// are journaled as dropped, kind `shutdown`). Returns when the server has stopped.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        let drain = self.webhooks.shutdown(self.grace);
        let Some(mut task) = self.task.take() else {
            drain.await;
            return;
        };
        let (served, ()) = tokio::join!(tokio::time::timeout(self.grace, &mut task), drain);
        match served {
            Ok(Ok(())) => tracing::info!("momento-mock stopped"),
            Ok(Err(err)) => tracing::error!("server task failed: {err}"),
            Err(_) => {
                tracing::warn!(
                    grace = ?self.grace,
                    "connections still open after the grace period; closing them"
                );
                task.abort();
                let _ = task.await;
            }
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.webhooks.abort();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
