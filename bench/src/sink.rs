//! Webhook receivers for the benchmarks: minimal hyper HTTP/1.1 servers answering `204` (they
//! count requests and, while recording, the publish-to-receive latency stamped in the body), and
//! a black hole that accepts connections and never answers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpListener;

use crate::util::{now_nanos, parse_ts};

/// What every sink of one [`Sinks`] saw.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Requests answered.
    pub received: AtomicU64,
    /// Requests whose body carried no send stamp during a window (should stay 0).
    pub unstamped: AtomicU64,
    /// Latencies are recorded for messages sent in `[since, until)` (nanos of [`now_nanos`]).
    since: AtomicU64,
    until: AtomicU64,
    /// Publish-to-receive latencies in nanoseconds of the messages sent in the window.
    latencies: Mutex<Vec<u64>>,
}

impl SinkStats {
    /// Records the latency of every message sent from now on, until [`SinkStats::stop_window`].
    pub fn start_window(&self) {
        self.until.store(u64::MAX, Ordering::SeqCst);
        self.since.store(now_nanos().max(1), Ordering::SeqCst);
    }

    /// Messages sent from now on are not recorded (those sent before still are, when they come).
    pub fn stop_window(&self) {
        self.until.store(now_nanos(), Ordering::SeqCst);
    }

    /// Takes the recorded latencies, sorted.
    pub fn take_latencies(&self) -> Vec<u64> {
        let mut v = std::mem::take(&mut *self.latencies.lock().unwrap_or_else(|e| e.into_inner()));
        v.sort_unstable();
        v
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    fn on_request(&self, body: &[u8]) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let since = self.since.load(Ordering::Relaxed);
        if since > 0 {
            match parse_ts(body) {
                Some(sent) if sent < since || sent >= self.until.load(Ordering::Relaxed) => {}
                Some(sent) => {
                    let latency = now_nanos().saturating_sub(sent);
                    self.latencies
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(latency);
                }
                None => {
                    self.unstamped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// A set of HTTP sinks, one listener each, served on the runtime they were started on (they stop
/// with it).
#[derive(Debug)]
pub struct Sinks {
    pub addrs: Vec<SocketAddr>,
    pub stats: Arc<SinkStats>,
}

impl Sinks {
    /// `http://ADDR/hook` of sink `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}/hook", self.addrs[i])
    }
}

/// Starts `n` sinks on `runtime`.
pub fn start_sinks(runtime: &tokio::runtime::Runtime, n: usize) -> Result<Sinks> {
    let stats = Arc::new(SinkStats::default());
    let mut addrs = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .context("binding a sink")?;
        addrs.push(listener.local_addr()?);
        runtime.spawn(serve_sink(listener, stats.clone()));
    }
    Ok(Sinks { addrs, stats })
}

async fn serve_sink(listener: TcpListener, stats: Arc<SinkStats>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let stats = stats.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let stats = stats.clone();
                async move {
                    let body = req.into_body().collect().await?.to_bytes();
                    stats.on_request(&body);
                    let mut resp = Response::new(Empty::<Bytes>::new());
                    *resp.status_mut() = StatusCode::NO_CONTENT;
                    Ok::<_, hyper::Error>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

/// A destination that accepts connections, reads whatever comes and never answers. Returns its
/// address and a counter of connections accepted.
pub fn start_black_hole(runtime: &tokio::runtime::Runtime) -> Result<(SocketAddr, Arc<AtomicU64>)> {
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .context("binding the black hole")?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    runtime.spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                continue;
            };
            counter.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                // Until the client gives up and closes.
                while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    Ok((addr, accepted))
}
