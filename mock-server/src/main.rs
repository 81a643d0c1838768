//! The `momento-mock` binary: parses flags (each also a `MOMENTO_MOCK_*` variable), sets up
//! logging to stderr, starts the server, prints `momento-mock listening on HOST:PORT` as the first
//! line of stdout, and shuts down gracefully on SIGINT or SIGTERM. It also raises its own limit
//! of open files to the most the system allows it, as Go programs do.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use momento_mock::config::*;
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

    /// Publish, subscribe and webhook creation on topics not declared through the topic
    /// extension fail with NOT_FOUND (by default, as in Momento, any topic works).
    #[arg(long, env = "MOMENTO_MOCK_STRICT_TOPICS")]
    strict_topics: bool,

    /// Do not serve the topic extension (momento_mock.topics.v1.Topics): behave like real
    /// Momento, where topics are implicit and the extension's RPCs answer UNIMPLEMENTED.
    #[arg(
        long,
        env = "MOMENTO_MOCK_NO_TOPIC_EXTENSION",
        conflicts_with = "strict_topics"
    )]
    no_topic_extension: bool,

    /// Largest published message in bytes (Momento's hard limit: 4096). Bigger ones get
    /// RESOURCE_EXHAUSTED (`err` = request_size_limit_exceeded) or, over HTTP, 429.
    #[arg(long, env = "MOMENTO_MOCK_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES, value_parser = parse_positive)]
    max_message_bytes: usize,

    /// Time allowed for one webhook POST, in milliseconds (Momento's hard limit: 5000).
    #[arg(long, env = "MOMENTO_MOCK_DELIVERY_TIMEOUT_MS", default_value_t = DEFAULT_DELIVERY_TIMEOUT.as_millis() as usize, value_parser = parse_positive)]
    delivery_timeout_ms: usize,

    /// Attempts per webhook delivery. 1 is Momento's behaviour; more enables exponential backoff
    /// with jitter, honouring Retry-After.
    #[arg(long, env = "MOMENTO_MOCK_DELIVERY_ATTEMPTS", default_value_t = DEFAULT_DELIVERY_ATTEMPTS as usize, value_parser = parse_positive)]
    delivery_attempts: usize,

    /// Soft limit: webhooks per cache (Momento's default is 5).
    #[arg(long, env = "MOMENTO_MOCK_MAX_WEBHOOKS_PER_CACHE", default_value_t = DEFAULT_MAX_WEBHOOKS_PER_CACHE, value_parser = parse_positive)]
    max_webhooks_per_cache: usize,

    /// Soft limit: deliveries per second per webhook (Momento's default is 5); the excess is
    /// dropped and journaled.
    #[arg(long, env = "MOMENTO_MOCK_MAX_DELIVERIES_PER_SECOND", default_value_t = DEFAULT_MAX_DELIVERIES_PER_SECOND as usize, value_parser = parse_positive)]
    max_deliveries_per_second: usize,

    /// Deliveries waiting per webhook; when full, new deliveries are dropped and journaled.
    #[arg(long, env = "MOMENTO_MOCK_WEBHOOK_QUEUE_CAPACITY", default_value_t = DEFAULT_WEBHOOK_QUEUE_CAPACITY, value_parser = parse_positive)]
    webhook_queue_capacity: usize,

    /// Deliveries in flight at once per webhook.
    #[arg(long, env = "MOMENTO_MOCK_WEBHOOK_CONCURRENCY", default_value_t = DEFAULT_WEBHOOK_CONCURRENCY, value_parser = parse_positive)]
    webhook_concurrency: usize,

    /// Deliveries in flight at once across all webhooks, beyond the one each webhook may always
    /// have (so destinations that stall cannot starve the others).
    #[arg(long, env = "MOMENTO_MOCK_MAX_INFLIGHT_DELIVERIES", default_value_t = DEFAULT_MAX_INFLIGHT_DELIVERIES, value_parser = parse_positive)]
    max_inflight_deliveries: usize,

    /// Entries kept in the delivery journal (GET /_mock/deliveries); oldest are evicted.
    #[arg(long, env = "MOMENTO_MOCK_JOURNAL_CAPACITY", default_value_t = DEFAULT_JOURNAL_CAPACITY, value_parser = parse_positive)]
    journal_capacity: usize,

    /// Messages kept per topic for resuming subscriptions.
    #[arg(long, env = "MOMENTO_MOCK_TOPIC_LOG_CAPACITY", default_value_t = DEFAULT_TOPIC_LOG_CAPACITY, value_parser = parse_positive)]
    topic_log_capacity: usize,

    /// Subscriptions per topic, HTTP long-polls included (Momento's default is 100). More get
    /// RESOURCE_EXHAUSTED (`err` = topic_subscriptions_limit_exceeded) or, over HTTP, 429.
    #[arg(long, env = "MOMENTO_MOCK_MAX_SUBSCRIPTIONS_PER_TOPIC", default_value_t = DEFAULT_MAX_SUBSCRIPTIONS_PER_TOPIC, value_parser = parse_positive)]
    max_subscriptions_per_topic: usize,

    /// Milliseconds between heartbeats on subscription streams (the first is sent at once).
    #[arg(long, env = "MOMENTO_MOCK_HEARTBEAT_INTERVAL_MS", default_value_t = DEFAULT_HEARTBEAT_INTERVAL.as_millis() as usize, value_parser = parse_positive)]
    heartbeat_interval_ms: usize,

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
    raise_open_files_limit();
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

/// Raises the soft limit of open files to the hard one. Every webhook may keep up to
/// `--webhook-concurrency` connections to its destination, and every client holds one or more,
/// so a load test can pass the 1,024 (Linux) or 256 (macOS) that shells start programs with.
/// Running out would fail deliveries and refuse clients with "too many open files".
#[cfg(unix)]
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    // Linux refuses more than its `nr_open` (1,048,576 unless changed) even under an unlimited
    // hard limit, and macOS more than OPEN_MAX.
    let most = if cfg!(target_os = "macos") {
        limit.rlim_max.min(10_240)
    } else if limit.rlim_max == libc::RLIM_INFINITY {
        1 << 20
    } else {
        limit.rlim_max
    };
    if limit.rlim_cur >= most {
        return;
    }
    let before = limit.rlim_cur;
    limit.rlim_cur = most;
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        tracing::warn!(
            soft_limit = before,
            "cannot raise the open files limit ({}); many webhooks under load may fail with \"too many open files\" (raise it with `ulimit -n`)",
            std::io::Error::last_os_error()
        );
    } else {
        tracing::debug!(from = before, to = most, "raised the open files limit");
    }
}

#[cfg(not(unix))]
fn raise_open_files_limit() {}

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
        strict_topics: cli.strict_topics,
        topic_extension: !cli.no_topic_extension,
        max_message_bytes: cli.max_message_bytes,
        delivery_timeout: Duration::from_millis(cli.delivery_timeout_ms as u64),
        delivery_attempts: u32::try_from(cli.delivery_attempts).unwrap_or(u32::MAX),
        max_webhooks_per_cache: cli.max_webhooks_per_cache,
        max_deliveries_per_second: u32::try_from(cli.max_deliveries_per_second).unwrap_or(u32::MAX),
        webhook_queue_capacity: cli.webhook_queue_capacity,
        webhook_concurrency: cli.webhook_concurrency,
        max_inflight_deliveries: cli.max_inflight_deliveries,
        journal_capacity: cli.journal_capacity,
        topic_log_capacity: cli.topic_log_capacity,
        max_subscriptions_per_topic: cli.max_subscriptions_per_topic,
        heartbeat_interval: Duration::from_millis(cli.heartbeat_interval_ms as u64),
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
