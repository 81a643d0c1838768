//! The HTTP/2 server against a real client (the `h2` crate, over an in-memory pipe) and against
//! hand-written frames: answers, flow control both ways, resets, refusals, graceful stop, and
//! protocol errors.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prost::bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::frame::{self, flag, kind, Head, Reason, HEAD_LEN};
use super::{Answer, CallFuture, Request, Route, Router};

/// Generous bound for anything that should be quick, so a loaded machine does not flake.
const PATIENCE: Duration = Duration::from_secs(20);

/// Calls the tests make.
#[derive(Default)]
struct TestRouter {
    /// Slow calls started, and those whose futures were dropped unanswered.
    started: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

/// Waits until `counter` reaches `n`.
async fn wait_for(counter: &AtomicUsize, n: usize, what: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while counter.load(Ordering::SeqCst) < n {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Counts a slow call's future dropped before it answered.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Router for TestRouter {
    fn route(&self, path: &str) -> Route {
        match path {
            "/test/Echo" | "/test/Big" | "/test/Slow" | "/test/Panic" => Route::Body,
            "/test/Headers" | "/test/Stream" => Route::Headers,
            _ => Route::Refused(Status::unimplemented(format!("no such service: {path}"))),
        }
    }

    fn call(&self, request: Request) -> CallFuture {
        match request.path.as_str() {
            "/test/Echo" => Box::pin(async move { Answer::Message(request.body) }),
            // The body is the answer's length, as decimal text.
            "/test/Big" => {
                let len: usize = std::str::from_utf8(&request.body).unwrap().parse().unwrap();
                let answer: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                Box::pin(async move { Answer::Message(answer.into()) })
            }
            "/test/Slow" => {
                let guard = DropCounter(self.dropped.clone());
                let started = self.started.clone();
                Box::pin(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(
                        std::str::from_utf8(&request.body).unwrap().parse().unwrap(),
                    ))
                    .await;
                    std::mem::forget(guard);
                    Answer::Message(Bytes::from_static(b"slept"))
                })
            }
            "/test/Panic" => Box::pin(async move {
                tokio::task::yield_now().await;
                panic!("a handler bug");
            }),
            "/test/Headers" => {
                let value = request
                    .headers
                    .get("x-test")
                    .map(|v| v.as_bytes().to_vec())
                    .unwrap_or_default();
                Box::pin(async move { Answer::Message(value.into()) })
            }
            "/test/Stream" => Box::pin(async move {
                let frames = futures::stream::iter(
                    ["one", "two", "three"]
                        .map(|s| Ok::<_, Status>(http_body::Frame::data(Bytes::from(s))))
                        .into_iter()
                        .chain([Ok(http_body::Frame::trailers({
                            let mut t = http::HeaderMap::new();
                            t.insert("grpc-status", http::HeaderValue::from_static("0"));
                            t
                        }))]),
                );
                let body = http_body_util::StreamBody::new(frames);
                let mut response = http::Response::new(tonic::body::Body::new(body));
                response.headers_mut().insert(
                    "content-type",
                    http::HeaderValue::from_static("application/grpc"),
                );
                Answer::Http(response)
            }),
            other => panic!("routed {other}"),
        }
    }
}

/// A server on one end of an in-memory pipe; the other end is the client's.
fn serve(
    router: Arc<TestRouter>,
) -> (
    DuplexStream,
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (client, server) = tokio::io::duplex(1 << 20);
    let stop = CancellationToken::new();
    let task = tokio::spawn(super::serve_connection(server, router, stop.clone()));
    (client, stop, task)
}

async fn h2_client(
    io: DuplexStream,
    builder: h2::client::Builder,
) -> h2::client::SendRequest<Bytes> {
    let (client, connection) = builder.handshake(io).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A call: its answer's status, data, and trailers.
struct Called {
    status: http::StatusCode,
    headers: http::HeaderMap,
    data: Vec<u8>,
    trailers: Option<http::HeaderMap>,
}

async fn call(
    client: &mut h2::client::SendRequest<Bytes>,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Called, h2::Error> {
    let mut request = http::Request::post(format!("http://provider{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut ready = client.clone().ready().await?;
    let (answer, mut send) = ready.send_request(request.body(()).unwrap(), body.is_empty())?;
    if !body.is_empty() {
        send.send_data(Bytes::copy_from_slice(body), true)?;
    }
    let answer = answer.await?;
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut body = answer.into_body();
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        body.flow_control().release_capacity(chunk.len())?;
        data.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await?;
    Ok(Called {
        status,
        headers,
        data,
        trailers,
    })
}

fn grpc_status(called: &Called) -> Option<String> {
    called
        .trailers
        .as_ref()
        .unwrap_or(&called.headers)
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn concurrent_calls_are_answered_with_their_own_data_and_trailers() {
    let (io, _stop, _task) = serve(Arc::default());
    let client = h2_client(io, h2::client::Builder::new()).await;
    let calls = (0..50).map(|i| {
        let mut client = client.clone();
        async move {
            let body = format!("message {i}");
            let called = call(&mut client, "/test/Echo", &[], body.as_bytes())
                .await
                .unwrap();
            assert_eq!(called.status, http::StatusCode::OK);
            assert_eq!(called.headers["content-type"], "application/grpc");
            assert_eq!(String::from_utf8(called.data.clone()).unwrap(), body);
            assert_eq!(grpc_status(&called).as_deref(), Some("0"));
        }
    });
    tokio::time::timeout(PATIENCE, futures::future::join_all(calls))
        .await
        .unwrap();
}

#[tokio::test]
async fn answers_wait_for_the_clients_flow_control_windows() {
    let (io, _stop, _task) = serve(Arc::default());
    // Windows far smaller than the answers: the server must send in pieces as they open.
    let mut builder = h2::client::Builder::new();
    builder
        .initial_window_size(1_000)
        .initial_connection_window_size(1_500)
        .max_frame_size(16_384);
    let client = h2_client(io, builder).await;
    let calls = [300_000usize, 70_000, 1].map(|len| {
        let mut client = client.clone();
        async move {
            let called = call(&mut client, "/test/Big", &[], len.to_string().as_bytes())
                .await
                .unwrap();
            assert_eq!(called.data.len(), len);
            assert!(called
                .data
                .iter()
                .enumerate()
                .all(|(i, b)| *b == (i % 251) as u8));
            assert_eq!(grpc_status(&called).as_deref(), Some("0"));
        }
    });
    tokio::time::timeout(PATIENCE, futures::future::join_all(calls))
        .await
        .unwrap();
}

#[tokio::test]
async fn requests_larger_than_the_windows_arrive_whole() {
    let (io, _stop, _task) = serve(Arc::default());
    let mut client = h2_client(io, h2::client::Builder::new()).await;
    // Over the stream window (1 MiB) and the connection window (4 MiB) this server gives.
    let body: Vec<u8> = (0..5_000_000u32).map(|i| (i % 253) as u8).collect();
    let called = tokio::time::timeout(PATIENCE, call(&mut client, "/test/Echo", &[], &body))
        .await
        .unwrap()
        .unwrap();
    assert!(called.data == body, "the echo differs from the request");
}

#[tokio::test]
async fn headers_reach_routes_that_ask_for_them_and_streamed_answers_end_with_their_trailers() {
    let (io, _stop, _task) = serve(Arc::default());
    let mut client = h2_client(io, h2::client::Builder::new()).await;
    let called = call(&mut client, "/test/Headers", &[("x-test", "hello")], b"x")
        .await
        .unwrap();
    assert_eq!(called.data, b"hello");
    let called = call(&mut client, "/test/Stream", &[], b"x").await.unwrap();
    assert_eq!(called.data, b"onetwothree");
    assert_eq!(grpc_status(&called).as_deref(), Some("0"));
}

#[tokio::test]
async fn unknown_paths_are_refused_at_once_even_while_the_client_is_still_sending() {
    let (io, _stop, _task) = serve(Arc::default());
    let client = h2_client(io, h2::client::Builder::new()).await;
    let mut ready = client.clone().ready().await.unwrap();
    let request = http::Request::post("http://provider/plugin.GRPCBroker/StartStream")
        .body(())
        .unwrap();
    // The request stays open, as a bidirectional stream's does.
    let (answer, _send) = ready.send_request(request, false).unwrap();
    let answer = tokio::time::timeout(PATIENCE, answer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.headers()["grpc-status"], "12");
    assert!(answer.headers()["grpc-message"]
        .to_str()
        .unwrap()
        .contains("plugin.GRPCBroker/StartStream"));
    // The connection goes on serving.
    let mut client = client;
    let called = call(&mut client, "/test/Echo", &[], b"still here")
        .await
        .unwrap();
    assert_eq!(called.data, b"still here");
}

#[tokio::test]
async fn a_call_that_panics_gets_internal_and_the_connection_goes_on() {
    let (io, _stop, _task) = serve(Arc::default());
    let mut client = h2_client(io, h2::client::Builder::new()).await;
    let called = call(&mut client, "/test/Panic", &[], b"x").await.unwrap();
    assert_eq!(grpc_status(&called).as_deref(), Some("13"));
    let message = called.headers["grpc-message"].to_str().unwrap().to_owned();
    assert!(message.contains("panicked"), "{message}");
    let called = call(&mut client, "/test/Echo", &[], b"after")
        .await
        .unwrap();
    assert_eq!(called.data, b"after");
}

#[tokio::test]
async fn a_stream_reset_by_the_client_drops_its_call() {
    let router = Arc::new(TestRouter::default());
    let (io, _stop, _task) = serve(router.clone());
    let client = h2_client(io, h2::client::Builder::new()).await;
    let mut ready = client.clone().ready().await.unwrap();
    let request = http::Request::post("http://provider/test/Slow")
        .body(())
        .unwrap();
    let (answer, mut send) = ready.send_request(request, false).unwrap();
    send.send_data(Bytes::from_static(b"60000"), true).unwrap();
    wait_for(&router.started, 1, "the slow call did not start").await;
    drop(answer);
    send.send_reset(h2::Reason::CANCEL);
    wait_for(&router.dropped, 1, "the call was not dropped").await;
    let mut client = client;
    let called = call(&mut client, "/test/Echo", &[], b"next").await.unwrap();
    assert_eq!(called.data, b"next");
}

#[tokio::test]
async fn stopping_answers_the_calls_in_flight_then_closes() {
    let router = Arc::new(TestRouter::default());
    let (io, stop, task) = serve(router.clone());
    let mut client = h2_client(io, h2::client::Builder::new()).await;
    let slow = tokio::spawn({
        let mut client = client.clone();
        async move { call(&mut client, "/test/Slow", &[], b"300").await }
    });
    // Stop only once the call is in flight, however slowly this machine gets there.
    wait_for(&router.started, 1, "the slow call did not start").await;
    stop.cancel();
    let called = tokio::time::timeout(PATIENCE, slow)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(called.data, b"slept");
    tokio::time::timeout(PATIENCE, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // New calls after the GOAWAY are not served.
    assert!(call(&mut client, "/test/Echo", &[], b"late").await.is_err());
}

// ---------------------------------------------------------------------------------------------
// Hand-written frames

/// A raw client that has sent the preface and an empty SETTINGS.
async fn raw_client() -> (DuplexStream, tokio::task::JoinHandle<std::io::Result<()>>) {
    let (mut io, _stop, task) = serve(Arc::default());
    io.write_all(frame::PREFACE).await.unwrap();
    let mut out = Vec::new();
    frame::put_settings(&mut out, &[]);
    io.write_all(&out).await.unwrap();
    (io, task)
}

/// Reads frames until one of `kind` arrives, and returns it.
async fn read_until(io: &mut DuplexStream, wanted: u8) -> Option<(Head, Vec<u8>)> {
    loop {
        let mut head = [0u8; HEAD_LEN];
        if io.read_exact(&mut head).await.is_err() {
            return None;
        }
        let head = Head::parse(&head);
        let mut payload = vec![0u8; head.len];
        io.read_exact(&mut payload).await.ok()?;
        if head.kind == wanted {
            return Some((head, payload));
        }
    }
}

fn goaway_reason(payload: &[u8]) -> u32 {
    u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]])
}

#[tokio::test]
async fn pings_are_acknowledged_with_their_payload() {
    let (mut io, _task) = raw_client().await;
    let mut out = Vec::new();
    frame::put_head(&mut out, 8, kind::PING, 0, 0);
    out.extend_from_slice(b"12345678");
    io.write_all(&out).await.unwrap();
    let (head, payload) = tokio::time::timeout(PATIENCE, read_until(&mut io, kind::PING))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.flags, flag::ACK);
    assert_eq!(payload, b"12345678");
}

#[tokio::test]
async fn a_header_block_split_over_continuation_frames_is_one_request() {
    let (mut io, _task) = raw_client().await;
    let mut encoder = loona_hpack::Encoder::new();
    let block = encoder.encode([
        (&b":method"[..], &b"POST"[..]),
        (b":scheme", b"http"),
        (b":path", b"/test/Echo"),
        (b":authority", b"provider"),
        (b"content-type", b"application/grpc"),
    ]);
    let mut out = Vec::new();
    let (first, rest) = block.split_at(5);
    frame::put_head(&mut out, first.len(), kind::HEADERS, 0, 1);
    out.extend_from_slice(first);
    frame::put_head(
        &mut out,
        rest.len(),
        kind::CONTINUATION,
        flag::END_HEADERS,
        1,
    );
    out.extend_from_slice(rest);
    frame::put_head(&mut out, 3, kind::DATA, flag::END_STREAM, 1);
    out.extend_from_slice(b"abc");
    io.write_all(&out).await.unwrap();
    let (_, data) = tokio::time::timeout(PATIENCE, read_until(&mut io, kind::DATA))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(data, b"abc");
}

/// Sends `frames` after the preface and expects a GOAWAY with `reason` and the connection's end.
async fn expect_goaway(frames: Vec<u8>, reason: Reason) {
    let (mut io, task) = raw_client().await;
    io.write_all(&frames).await.unwrap();
    let (_, payload) = tokio::time::timeout(PATIENCE, read_until(&mut io, kind::GOAWAY))
        .await
        .unwrap()
        .expect("a GOAWAY");
    assert_eq!(goaway_reason(&payload), reason as u32);
    let ended = tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap();
    assert!(ended.is_err(), "the connection should end with an error");
}

#[tokio::test]
async fn protocol_errors_end_the_connection_with_a_goaway_that_names_them() {
    // A frame over the 16 KiB maximum.
    let mut out = Vec::new();
    frame::put_head(&mut out, 20_000, kind::DATA, 0, 1);
    expect_goaway(out, Reason::FrameSizeError).await;
    // DATA on a stream never opened.
    let mut out = Vec::new();
    frame::put_head(&mut out, 1, kind::DATA, 0, 7);
    out.push(0);
    expect_goaway(out, Reason::ProtocolError).await;
    // A header block that does not decode.
    let mut out = Vec::new();
    frame::put_head(&mut out, 2, kind::HEADERS, flag::END_HEADERS, 1);
    out.extend_from_slice(&[0xff, 0xff]);
    expect_goaway(out, Reason::CompressionError).await;
    // A PING of the wrong size.
    let mut out = Vec::new();
    frame::put_head(&mut out, 3, kind::PING, 0, 0);
    out.extend_from_slice(b"abc");
    expect_goaway(out, Reason::FrameSizeError).await;
    // A WINDOW_UPDATE that overflows the connection's window.
    let mut out = Vec::new();
    frame::put_window_update(&mut out, 0, 0x7fff_ffff);
    expect_goaway(out, Reason::FlowControlError).await;
}

#[tokio::test]
async fn a_client_that_does_not_speak_http2_is_turned_away() {
    let (mut io, _stop, task) = serve(Arc::default());
    io.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let ended = tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap();
    assert!(ended.unwrap_err().to_string().contains("preface"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever follows a valid start, the connection neither panics nor hangs.
    #[test]
    fn arbitrary_frames_never_panic(garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (mut io, task) = raw_client().await;
            let _ = io.write_all(&garbage).await;
            drop(io);
            tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap().ok();
        });
    }
}
