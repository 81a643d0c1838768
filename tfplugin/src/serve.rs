//! Serving a provider: go-plugin's handshake (magic cookie, protocol negotiation, unix socket,
//! AutoMTLS, the handshake line), lifecycle (SIGINT ignored, controller shutdown, stopping when
//! Terraform is gone), debug mode with `TF_REATTACH_PROVIDERS`, and in-process serving for tests.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::http2::{self, Answer, CallFuture, Route, Router};
use crate::proto::health::health_server::{Health, HealthServer};
use crate::proto::health::{
    health_check_response::ServingStatus, HealthCheckRequest, HealthCheckResponse,
};
use crate::proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::plugin::{Empty, StdioData};
use crate::proto::tfplugin6::provider_server::{Provider as ProviderRpc, ProviderServer};
use crate::resource::Provider;
use crate::server::ProviderService;
use crate::unary;

/// The environment variable and value Terraform sets to show it launched the plugin.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The plugin protocol major version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 6;
/// Largest gRPC message accepted or sent, as Terraform and Go providers use.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "this binary is a Terraform plugin and is started by Terraform, not by hand.\n\
         Use it through `terraform init/plan/apply`, or run it with --debug and follow the \
         instructions it prints to attach Terraform to it."
    )]
    NotLaunchedByTerraform,
    #[error(
        "Terraform offered plugin protocol versions {0:?}, but this provider speaks only version 6 \
         (Terraform 1.0 or newer). Upgrade Terraform."
    )]
    UnsupportedProtocol(String),
    #[error("AutoMTLS: {0}")]
    Tls(String),
    #[error("invalid provider schema:\n{0}")]
    InvalidSchema(String),
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

/// Runs a provider binary's `main`: serves Terraform (or, with `--debug`, a debug session) and
/// turns errors into a message on stderr and exit code 1.
pub fn run<P: Provider>(provider: P, provider_address: &str) -> ExitCode {
    let debug = std::env::args()
        .skip(1)
        .any(|a| a == "--debug" || a == "-debug");
    // One thread: a provider serves one Terraform process's small RPCs, mostly waiting on I/O.
    // Without work-stealing and cross-thread wake-ups, a refresh plan of 200 resources costs
    // the provider ~7% less CPU and Terraform ~5% less wall time (BENCHMARKS.md, plan_ratio).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        if debug {
            serve_debug(provider, provider_address).await
        } else {
            serve_plugin(provider).await
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves the provider as Terraform expects when it launches the binary.
pub async fn serve_plugin<P: Provider>(provider: P) -> Result<(), ServeError> {
    if std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(ServeError::NotLaunchedByTerraform);
    }
    negotiate_protocol(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
    // Terraform handles Ctrl-C itself and asks providers to stop through StopProvider.
    ignore_sigint();

    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() => Some(crate::tls::auto_mtls(&pem)?),
        _ => None,
    };
    let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from);
    let socket = SocketDir::new(dir.as_deref())?;
    let listener = socket.bind()?;

    let cert = tls
        .as_ref()
        .map(|t| base64::engine::general_purpose::STANDARD_NO_PAD.encode(&t.server_cert_der))
        .unwrap_or_default();
    let line = format!(
        "1|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}\n",
        socket.path.display()
    );

    let stop = CancellationToken::new();
    let service = ProviderService::new(provider).map_err(ServeError::InvalidSchema)?;
    let server = Serving {
        honour_shutdown: true,
        stop: stop.clone(),
    };
    spawn_sigterm_watch(stop.clone());
    spawn_parent_watch(stop.clone());
    let task = tokio::spawn(server.run(listener, tls.map(|t| t.config), service));
    print_stdout(&line)?;
    let result = task
        .await
        .map_err(|e| ServeError::Io("server task".into(), std::io::Error::other(e)))?;
    drop(socket);
    result
}

/// Serves in debug mode: plaintext on a unix socket, printing the `TF_REATTACH_PROVIDERS` value
/// for a Terraform run in another terminal. Ctrl-C stops it.
pub async fn serve_debug<P: Provider>(
    provider: P,
    provider_address: &str,
) -> Result<(), ServeError> {
    let server = serve_in_process(provider, provider_address).await?;
    // Install the Ctrl-C handler before telling anyone the server is up.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| ServeError::Io("listening for Ctrl-C".into(), e))?;
    let message = format!(
        "Provider started in debug mode. To attach Terraform, set this in the shell that runs it:\n\n\
         \tTF_REATTACH_PROVIDERS='{}'\n\n\
         Terraform will not start or stop this process. Press Ctrl-C to stop it.\n",
        server.reattach_json()
    );
    print_stdout(&message)?;
    interrupt.recv().await;
    server.shutdown().await;
    Ok(())
}

/// A provider served inside the current process, for tests and debugging. Terraform attaches
/// to it through `TF_REATTACH_PROVIDERS` and does not stop it between commands.
pub struct InProcessServer {
    reattach: String,
    socket: SocketDir,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl InProcessServer {
    /// The JSON value for `TF_REATTACH_PROVIDERS`.
    pub fn reattach_json(&self) -> &str {
        &self.reattach
    }

    /// The unix socket the provider listens on.
    pub fn socket_path(&self) -> &Path {
        &self.socket.path
    }

    /// Stops serving and removes the socket.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        drop(self.socket);
    }
}

/// Serves a provider in this process on a fresh unix socket (plaintext) and returns the
/// reattach configuration for `provider_address` (e.g. `registry.terraform.io/acme/example`).
pub async fn serve_in_process<P: Provider>(
    provider: P,
    provider_address: &str,
) -> Result<InProcessServer, ServeError> {
    let socket = SocketDir::new(None)?;
    let listener = socket.bind()?;
    let service = ProviderService::new(provider).map_err(ServeError::InvalidSchema)?;
    let stop = CancellationToken::new();
    let server = Serving {
        honour_shutdown: false,
        stop: stop.clone(),
    };
    let task = tokio::spawn(server.run(listener, None, service));
    let reattach = serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.path.to_string_lossy() },
        }
    })
    .to_string();
    Ok(InProcessServer {
        reattach,
        socket,
        stop,
        task,
    })
}

fn negotiate_protocol(offered: Option<&str>) -> Result<(), ServeError> {
    match offered {
        None => Ok(()),
        Some(list) if list.trim().is_empty() => Ok(()),
        Some(list) => {
            let six = PROTOCOL_VERSION.to_string();
            if list.split(',').any(|v| v.trim() == six) {
                Ok(())
            } else {
                Err(ServeError::UnsupportedProtocol(list.to_owned()))
            }
        }
    }
}

fn ignore_sigint() {
    // SAFETY: setting a signal disposition to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
}

fn spawn_sigterm_watch(stop: CancellationToken) {
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => stop.cancel(),
                _ = stop.cancelled() => {}
            }
        });
    }
}

/// How often a launched provider checks that the Terraform that launched it is still there.
const PARENT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Stops serving once the process that launched this one is gone. Terraform killed before it
/// could stop its providers (SIGKILL, a crash, `terraform plan | head` ending it with SIGPIPE)
/// would otherwise leave this process and its socket directory behind for good. Nothing else
/// can reach a launched provider: its socket and certificate were only ever told to that
/// Terraform. The orphan is re-parented, so its parent pid changes.
fn spawn_parent_watch(stop: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        let first = tokio::time::Instant::now() + PARENT_CHECK_INTERVAL;
        let mut ticks = tokio::time::interval_at(first, PARENT_CHECK_INTERVAL);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.cancelled() => return,
            }
            if std::os::unix::process::parent_id() != parent {
                // Not logged: stderr is a pipe to that Terraform, so nobody would read it, and a
                // tracing-subscriber whose writer reports the failed write panics.
                stop.cancel();
                return;
            }
        }
    });
}

fn print_stdout(text: &str) -> Result<(), ServeError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| ServeError::Io("writing the handshake to stdout".into(), e))
}

/// A private temporary directory holding the unix socket; removed when dropped.
struct SocketDir {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SocketDir {
    fn new(parent: Option<&Path>) -> Result<Self, ServeError> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("tfplugin");
        let dir = match parent {
            Some(p) => builder.tempdir_in(p),
            None => builder.tempdir(),
        }
        .map_err(|e| ServeError::Io("creating the socket directory".into(), e))?;
        let path = dir.path().join("provider.sock");
        Ok(Self { _dir: dir, path })
    }

    fn bind(&self) -> Result<UnixListener, ServeError> {
        UnixListener::bind(&self.path)
            .map_err(|e| ServeError::Io(format!("listening on {}", self.path.display()), e))
    }
}

/// One gRPC server: the provider plus go-plugin's controller, stdio and health services.
struct Serving {
    /// Whether `GRPCController.Shutdown` stops the server (not when Terraform reattaches to a
    /// server it does not own).
    honour_shutdown: bool,
    stop: CancellationToken,
}

impl Serving {
    /// Accepts connections until `stop`, serving each on its own task, then lets every
    /// connection finish its in-flight calls (HTTP/2 graceful shutdown).
    async fn run<P: Provider>(
        self,
        listener: UnixListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        service: ProviderService<P>,
    ) -> Result<(), ServeError> {
        let stop = self.stop.clone();
        let service = Arc::new(service);
        let routes = Arc::new(Routes {
            service: service.clone(),
            provider: ProviderServer::from_arc(service)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
            controller: GrpcControllerServer::new(Controller {
                honour_shutdown: self.honour_shutdown,
                stop: stop.clone(),
            }),
            stdio: GrpcStdioServer::new(Stdio { stop: stop.clone() }),
            health: HealthServer::new(HealthService),
        });
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let connections = tokio_util::task::TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = stop.cancelled() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accepting a plugin connection: {e}");
                    continue;
                }
            };
            let routes = routes.clone();
            let stop = stop.clone();
            match &acceptor {
                None => connections.spawn(serve_connection(stream, routes, stop)),
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    connections.spawn(async move {
                        let handshake =
                            tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                        // A half-open handshake must not hold up stopping.
                        let handshaken = tokio::select! {
                            handshaken = handshake => handshaken,
                            () = stop.cancelled() => return,
                        };
                        match handshaken {
                            Ok(Ok(tls)) => serve_connection(tls, routes, stop).await,
                            Ok(Err(e)) => tracing::warn!(
                                "rejected a plugin connection: TLS handshake failed: {e}"
                            ),
                            Err(_) => tracing::warn!(
                                "rejected a plugin connection: TLS handshake timed out"
                            ),
                        }
                    })
                }
            };
        }
        connections.close();
        connections.wait().await;
        Ok(())
    }
}

/// How long a connecting client has to complete the AutoMTLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves one connection until the client closes it or, after `stop`, until its in-flight calls
/// are answered.
async fn serve_connection<IO>(io: IO, routes: Arc<Routes<impl Provider>>, stop: CancellationToken)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    if let Err(e) = http2::serve_connection(io, routes, stop).await {
        tracing::debug!("plugin connection ended: {e}");
    }
}

/// The services of one server, routed by gRPC path (`/<package>.<Service>/<Method>`). It is
/// what tonic's router does, without its per-call layers: a provider answers thousands of
/// small calls per `plan`, and each layer costs CPU that Terraform waits for.
struct Routes<P: Provider> {
    /// The provider's per-resource unary calls take [`unary`]'s fast path; tonic's server
    /// (over the same service) answers the others.
    service: Arc<ProviderService<P>>,
    provider: ProviderServer<ProviderService<P>>,
    controller: GrpcControllerServer<Controller>,
    stdio: GrpcStdioServer<Stdio>,
    health: HealthServer<HealthService>,
}

/// The provider's per-resource unary calls: the ones `Routes::call` answers with `fast!`.
const FAST_METHODS: [&str; 7] = [
    "ValidateResourceConfig",
    "ValidateDataResourceConfig",
    "UpgradeResourceState",
    "ReadResource",
    "PlanResourceChange",
    "ApplyResourceChange",
    "ReadDataSource",
];

/// What a call to a service this server does not have gets.
fn no_such_service(path: &str) -> Status {
    Status::unimplemented(format!("no such service: {path}"))
}

/// A gRPC path's service and method.
fn split_path(path: &str) -> (&str, &str) {
    path.strip_prefix('/')
        .and_then(|p| p.split_once('/'))
        .unwrap_or(("", ""))
}

impl<P: Provider> Router for Routes<P> {
    fn route(&self, path: &str) -> Route {
        match split_path(path) {
            ("tfplugin6.Provider", method) if FAST_METHODS.contains(&method) => Route::Body,
            (
                "tfplugin6.Provider"
                | "plugin.GRPCController"
                | "plugin.GRPCStdio"
                | "grpc.health.v1.Health",
                _,
            ) => Route::Headers,
            _ => Route::Refused(no_such_service(path)),
        }
    }

    fn call(&self, request: http2::Request) -> CallFuture {
        use tonic::codegen::Service as _;
        let (service, method) = split_path(&request.path);
        /// Answers the call on the unary fast path with `ProviderRpc::$method`.
        macro_rules! fast {
            ($method:ident) => {{
                let provider = self.service.clone();
                let body = request.body;
                Box::pin(async move {
                    unary::serve(body, |r| async move { provider.$method(r).await }).await
                })
            }};
        }
        /// Answers the call with tonic's generated server `$server`.
        macro_rules! tonic {
            ($server:expr) => {{
                let mut server = $server.clone();
                let http_request = tonic_request(request);
                Box::pin(async move {
                    match server.call(http_request).await {
                        Ok(response) => Answer::Http(response),
                        Err(never) => match never {},
                    }
                })
            }};
        }
        match (service, method) {
            ("tfplugin6.Provider", "ValidateResourceConfig") => fast!(validate_resource_config),
            ("tfplugin6.Provider", "ValidateDataResourceConfig") => {
                fast!(validate_data_resource_config)
            }
            ("tfplugin6.Provider", "UpgradeResourceState") => fast!(upgrade_resource_state),
            ("tfplugin6.Provider", "ReadResource") => fast!(read_resource),
            ("tfplugin6.Provider", "PlanResourceChange") => fast!(plan_resource_change),
            ("tfplugin6.Provider", "ApplyResourceChange") => fast!(apply_resource_change),
            ("tfplugin6.Provider", "ReadDataSource") => fast!(read_data_source),
            ("tfplugin6.Provider", _) => tonic!(self.provider),
            ("plugin.GRPCController", _) => tonic!(self.controller),
            ("plugin.GRPCStdio", _) => tonic!(self.stdio),
            ("grpc.health.v1.Health", _) => tonic!(self.health),
            // `route` refuses these before their body arrives.
            _ => {
                let status = no_such_service(&request.path);
                Box::pin(async move { Answer::Status(status) })
            }
        }
    }
}

/// The call as tonic's generated servers take it.
fn tonic_request(
    request: http2::Request,
) -> http::Request<http_body_util::Full<prost::bytes::Bytes>> {
    let mut http_request = http::Request::new(http_body_util::Full::new(request.body));
    *http_request.method_mut() = http::Method::POST;
    *http_request.version_mut() = http::Version::HTTP_2;
    *http_request.headers_mut() = request.headers;
    if let Ok(uri) = http::Uri::try_from(request.path) {
        *http_request.uri_mut() = uri;
    }
    http_request
}

struct Controller {
    honour_shutdown: bool,
    stop: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        if self.honour_shutdown {
            tracing::debug!("Terraform asked the provider to shut down");
            let stop = self.stop.clone();
            // Stop after this handler returns. The server's graceful shutdown still answers
            // this call (in-flight calls finish), so no pause is needed: go-plugin waits for
            // the process to exit, and every millisecond here is added to every Terraform
            // command, once per provider launch (three per `plan`).
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                stop.cancel();
            });
        }
        Ok(Response::new(Empty {}))
    }
}

/// go-plugin's stdio forwarding: this provider logs to stderr directly, so the stream carries
/// nothing and ends when the server stops.
struct Stdio {
    stop: CancellationToken,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let stop = self.stop.clone();
        let stream = futures::stream::once(async move { stop.cancelled_owned().await })
            .filter_map(|_| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}

struct HealthService;

#[tonic::async_trait]
impl Health for HealthService {
    type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn check(
        &self,
        req: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = req.into_inner().service;
        if service.is_empty() || service == "plugin" {
            Ok(Response::new(HealthCheckResponse {
                status: ServingStatus::Serving as i32,
            }))
        } else {
            Err(Status::not_found(format!("unknown service {service:?}")))
        }
    }

    async fn watch(
        &self,
        req: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let status = self.check(req).await?.into_inner();
        let stream =
            futures::stream::once(async move { Ok(status) }).chain(futures::stream::pending());
        Ok(Response::new(Box::pin(stream)))
    }
}

use futures::StreamExt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_negotiation() {
        assert!(negotiate_protocol(None).is_ok());
        assert!(negotiate_protocol(Some("5,6")).is_ok());
        assert!(negotiate_protocol(Some("6")).is_ok());
        let err = negotiate_protocol(Some("4,5")).unwrap_err().to_string();
        assert!(
            err.contains("\"4,5\"") && err.contains("only version 6"),
            "{err}"
        );
    }
}
