//! The `momento-mock` binary: parses flags (each also a `MOMENTO_MOCK_*` variable), sets up
//! logging to stderr, starts the server, prints `momento-mock listening on HOST:PORT` as the first
//! line of stdout, and shuts down gracefully on SIGINT or SIGTERM.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use momento_mock::config::{DEFAULT_GRPC_MAX_MESSAGE_BYTES, DEFAULT_LIST_CACHES_PAGE_SIZE};
use momento_mock::Config;
use tracing_subscriber::EnvFilter;

/// A Momento-compatible mock server: Momento's gRPC services and an HTTP admin API on one port.
///
/// Every flag can also be given as the environment variable shown with it; a flag wins over
/// its variable.
#[derive(Parser)]
#[command(name = "momento-mock", version, about, long_about)]
struct Cli {
    /// Address to listen on (gRPC and HTTP share it). Port 0 picks a free port; the first line of
    /// stdout names the one bound.
    #[arg(long, env = "MOMENTO_MOCK_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Caches per ListCaches page; clients follow `next_token` for the rest.
    #[arg(
        long,
        env = "MOMENTO_MOCK_LIST_CACHES_PAGE_SIZE",
        default_value_t = DEFAULT_LIST_CACHES_PAGE_SIZE,
        value_parser = parse_positive
    )]
    list_caches_page_size: usize,

    /// Require every gRPC call to carry metadata `authorization: <TOKEN>` exactly (else
    /// UNAUTHENTICATED). Without it, any token, including none or the empty string, is accepted.
    /// Never logged.
    #[arg(
        long,
        env = "MOMENTO_MOCK_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    auth_token: Option<String>,

    /// Largest gRPC message decoded or encoded, in bytes.
    #[arg(
        long,
        env = "MOMENTO_MOCK_GRPC_MAX_MESSAGE_BYTES",
        default_value_t = DEFAULT_GRPC_MAX_MESSAGE_BYTES,
        value_parser = parse_positive
    )]
    grpc_max_message_bytes: usize,

    /// Log filter in RUST_LOG syntax (e.g. `info`, `momento_mock=debug`). Logs go to stderr.
    /// When neither this flag nor MOMENTO_MOCK_LOG is set, RUST_LOG is used, else `info`.
    #[arg(long, env = "MOMENTO_MOCK_LOG", value_name = "FILTER")]
    log: Option<String>,
}

fn parse_positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = init_logging(cli.log.as_deref()) {
        eprintln!("momento-mock: {err:#}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("momento-mock: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("momento-mock: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(flag: Option<&str>) -> anyhow::Result<()> {
    let filter = match flag {
        Some(spec) => {
            EnvFilter::try_new(spec).with_context(|| format!("invalid --log filter {spec:?}"))?
        }
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config {
        listen: cli.listen,
        list_caches_page_size: cli.list_caches_page_size,
        auth_token: cli.auth_token,
        grpc_max_message_bytes: cli.grpc_max_message_bytes,
        ..Config::default()
    };
    let mock = momento_mock::start(config).await?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "momento-mock listening on {}", mock.addr())
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")?;
    drop(stdout);

    let signal = shutdown_signal().await?;
    tracing::info!("{signal} received, shutting down");
    mock.shutdown().await;
    Ok(())
}

/// Waits for SIGINT or SIGTERM and says which arrived.
#[cfg(unix)]
async fn shutdown_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

#[cfg(not(unix))]
async fn shutdown_signal() -> anyhow::Result<&'static str> {
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    Ok("Ctrl-C")
}
