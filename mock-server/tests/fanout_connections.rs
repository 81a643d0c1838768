//! The connections deliveries go out on, seen from the destination: keep-alive reuse,
//! destinations that close connections (after every answer, with or without saying so), and a
//! burst spread over at most `webhook_concurrency` connections. The destination is a raw
//! HTTP/1.1 listener that counts connections and requests.

mod common;
mod webhook_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{start_mock, start_mock_with, within};
use momento_mock::webhooks::{DeliveryFilter, Outcome};
use momento_mock::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use webhook_support::{client, publish, put, text, wait};

/// What a destination does with a connection after answering.
#[derive(Clone, Copy, PartialEq)]
enum AfterAnswer {
    /// Keeps it open for the next request.
    KeepOpen,
    /// Answers `Connection: close` and closes it.
    SayCloseAndClose,
    /// Closes it a little later without saying so, as a server whose keep-alive timeout ran
    /// out does: the connection is idle on the mock's side by then.
    CloseSilentlyWhenIdle,
}

/// A destination answering every POST with 204.
struct Destination {
    url: String,
    connections: AtomicUsize,
    requests: AtomicUsize,
    /// Connections the destination closed.
    closed: AtomicUsize,
    changed: Notify,
}

impl Destination {
    async fn start(after: AfterAnswer) -> Arc<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let destination = Arc::new(Self {
            url: format!("http://{}/hook", listener.local_addr().unwrap()),
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            closed: AtomicUsize::new(0),
            changed: Notify::new(),
        });
        let serving = destination.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                serving.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serving.clone().serve(stream, after));
            }
        });
        destination
    }

    /// Answers the requests of one connection.
    async fn serve(self: Arc<Self>, mut stream: TcpStream, after: AfterAnswer) {
        let mut buffer = Vec::new();
        while read_request(&mut stream, &mut buffer).await {
            self.requests.fetch_add(1, Ordering::SeqCst);
            let answer: &[u8] = if after == AfterAnswer::SayCloseAndClose {
                b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 204 No Content\r\n\r\n"
            };
            if stream.write_all(answer).await.is_err() {
                break;
            }
            if after == AfterAnswer::CloseSilentlyWhenIdle {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if after != AfterAnswer::KeepOpen {
                drop(stream);
                self.closed.fetch_add(1, Ordering::SeqCst);
                self.changed.notify_waiters();
                return;
            }
        }
    }

    /// Waits until the destination has closed `n` connections.
    async fn closed(&self, n: usize) {
        within("the destination closes its connections", async {
            loop {
                let changed = self.changed.notified();
                if self.closed.load(Ordering::SeqCst) >= n {
                    return;
                }
                changed.await;
            }
        })
        .await;
    }
}

/// Reads one request (head and `content-length` body) into `buffer`, leaving what follows it.
/// False at the end of the connection.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().expect("numeric content-length"));
            if buffer.len() >= end + 4 + length {
                buffer.drain(..end + 4 + length);
                return true;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

fn outcome(webhook: &str, outcome: Outcome) -> DeliveryFilter {
    DeliveryFilter::all().webhook(webhook).outcome(outcome)
}

#[tokio::test]
async fn one_message_at_a_time_goes_over_one_kept_alive_connection() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let destination = Destination::start(AfterAnswer::KeepOpen).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &destination.url).await.unwrap();
    for n in 1..=20 {
        publish(&mock, &text("c", "t", &format!("m{n}")));
        wait(&mock, outcome("w", Outcome::Delivered), n).await;
    }
    assert_eq!(destination.requests.load(Ordering::SeqCst), 20);
    assert_eq!(destination.connections.load(Ordering::SeqCst), 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn connections_the_destination_closes_cost_no_delivery() {
    let mock = start_mock().await;
    mock.state().create_cache("c").unwrap();
    let silent = Destination::start(AfterAnswer::CloseSilentlyWhenIdle).await;
    let saying = Destination::start(AfterAnswer::SayCloseAndClose).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "silent", "t", &silent.url).await.unwrap();
    put(&mut c, "c", "saying", "t", &saying.url).await.unwrap();
    for n in 1..=5 {
        publish(&mock, &text("c", "t", &format!("m{n}")));
        wait(&mock, outcome("silent", Outcome::Delivered), n).await;
        wait(&mock, outcome("saying", Outcome::Delivered), n).await;
        // The next message finds the connection closed, not half-open.
        silent.closed(n).await;
        saying.closed(n).await;
    }
    for destination in [&silent, &saying] {
        assert_eq!(destination.requests.load(Ordering::SeqCst), 5);
        assert_eq!(destination.connections.load(Ordering::SeqCst), 5);
    }
    let failed = mock
        .webhooks()
        .journal()
        .query(&DeliveryFilter::all().outcome(Outcome::Failed));
    assert!(failed.is_empty(), "no attempt failed: {failed:?}");
    mock.shutdown().await;
}

#[tokio::test]
async fn a_burst_uses_at_most_webhook_concurrency_connections() {
    let mock = start_mock_with(Config {
        webhook_concurrency: 4,
        ..Config::ephemeral()
    })
    .await;
    mock.state().create_cache("c").unwrap();
    let destination = Destination::start(AfterAnswer::KeepOpen).await;
    let mut c = client(&mock).await;
    put(&mut c, "c", "w", "t", &destination.url).await.unwrap();
    for round in 1..=3 {
        for n in 0..50 {
            publish(&mock, &text("c", "t", &format!("r{round}m{n}")));
        }
        wait(&mock, outcome("w", Outcome::Delivered), 50 * round).await;
    }
    assert_eq!(destination.requests.load(Ordering::SeqCst), 150);
    let connections = destination.connections.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&connections),
        "{connections} connections for 3 bursts at concurrency 4"
    );
    mock.shutdown().await;
}
