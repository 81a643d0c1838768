//! One HTTP/2 connection, driven by one task: the frames it reads, its streams and their flow
//! control, the calls in flight, and one output buffer that every frame ready at the same time
//! shares, so that an answer and the acknowledgements that came with its request leave in one
//! write.
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{AbortHandle, Abortable};
use futures::stream::{FuturesUnordered, StreamExt as _};
use http_body::Body as _;
use prost::bytes::{Buf as _, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::frame::{self, flag, kind, setting, Head, Reason, HEAD_LEN};
use super::hpack;
use super::{Answer, CallFuture, Request, Route, Router, GRPC_PREFIX_LEN};
use crate::serve::MAX_MESSAGE_SIZE;

/// The window this server gives each stream for its request (`SETTINGS_INITIAL_WINDOW_SIZE`).
const STREAM_WINDOW: i64 = 1 << 20;
/// The window this server gives the whole connection.
const CONNECTION_WINDOW: i64 = 4 << 20;
/// Streams a client may have open at once; more are refused (`REFUSED_STREAM`).
const MAX_CONCURRENT_STREAMS: u32 = 200;
/// The largest header block accepted, after its `CONTINUATION` frames are joined.
const MAX_HEADER_BLOCK: usize = 64 << 10;
/// The largest request body: one gRPC message with its prefix.
const MAX_BODY: usize = GRPC_PREFIX_LEN + MAX_MESSAGE_SIZE;
/// Output at which the connection stops reading until the client has taken some.
const OUT_HIGH_WATER: usize = 1 << 20;
/// Answer data queued per stream (waiting for flow control) at which its body is not polled.
const BODY_HIGH_WATER: usize = 64 << 10;

/// Serves one connection until the client closes it or, after `stop`, until the calls in flight
/// are answered (`GOAWAY`, then a graceful close).
pub(crate) async fn serve_connection<IO, R>(
    io: IO,
    router: Arc<R>,
    stop: CancellationToken,
) -> io::Result<()>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    R: Router,
{
    let mut connection = Connection::new(io, router);
    let mut stopped = std::pin::pin!(stop.cancelled());
    std::future::poll_fn(|cx| {
        if !connection.going_away && stopped.as_mut().poll(cx).is_ready() {
            connection.go_away();
        }
        connection.poll(cx)
    })
    .await
}

/// An error that ends the connection, sent to the client in a `GOAWAY`.
struct ConnectionError {
    reason: Reason,
    message: String,
}

fn protocol_error(message: impl Into<String>) -> ConnectionError {
    ConnectionError {
        reason: Reason::ProtocolError,
        message: message.into(),
    }
}

struct Connection<IO, R> {
    io: IO,
    router: Arc<R>,
    read_buf: BytesMut,
    /// Frames to write; `written` bytes of it have been.
    out: Vec<u8>,
    written: usize,
    needs_flush: bool,
    preface_read: bool,
    settings_read: bool,
    decoder: hpack::Decoder,
    /// A header block waiting for its `CONTINUATION` frames.
    continuation: Option<HeaderBlock>,
    streams: HashMap<u32, Stream>,
    calls: FuturesUnordered<Abortable<Tagged>>,
    /// Streams whose answer body is still being read.
    bodies: Vec<u32>,
    /// The highest stream id the client has opened.
    last_stream: u32,
    peer_max_frame: usize,
    peer_initial_window: i64,
    /// What the client lets this server send on the connection.
    send_window: i64,
    /// What this server lets the client send on the connection.
    recv: RecvWindow,
    /// Whether this server sent its `GOAWAY`: streams opened after it are refused.
    going_away: bool,
}

/// What this server lets the client send, on the connection or on a stream: the window left,
/// and what was received but not yet given back with a `WINDOW_UPDATE`.
struct RecvWindow {
    size: i64,
    available: i64,
    unacked: i64,
}

impl RecvWindow {
    fn new(size: i64) -> Self {
        RecvWindow {
            size,
            available: size,
            unacked: 0,
        }
    }

    /// Takes `len` received bytes off the window; false if the client sent more than it allows.
    fn take(&mut self, len: i64) -> bool {
        if len > self.available {
            return false;
        }
        self.available -= len;
        true
    }

    /// Counts `len` received bytes as consumed; once they are half the window, gives them back
    /// and returns the `WINDOW_UPDATE` increment to send.
    fn give_back(&mut self, len: i64) -> Option<u32> {
        self.unacked += len;
        if self.unacked < self.size / 2 {
            return None;
        }
        let increment = self.unacked;
        self.available += increment;
        self.unacked = 0;
        Some(increment as u32)
    }
}

struct HeaderBlock {
    stream: u32,
    end_stream: bool,
    block: Bytes,
}

struct Stream {
    /// The request while the client is still sending it; `None` once it has ended.
    request: Option<Receiving>,
    recv: RecvWindow,
    send_window: i64,
    /// The answer's data waiting to be sent, and what ends it.
    queued: VecDeque<Bytes>,
    queued_len: usize,
    trailers: Option<Cow<'static, [u8]>>,
    /// No more data will be queued: once `queued` is sent, the trailers (or an empty `DATA`)
    /// end the stream.
    complete: bool,
    /// An answer body still being read (tonic's services).
    body: Option<tonic::body::Body>,
    abort: Option<AbortHandle>,
}

enum Receiving {
    /// A call waiting for the rest of its request.
    Call(Incoming),
    /// A request already answered (refused, or too large), whose data is dropped.
    Discard,
}

struct Incoming {
    path: String,
    headers: http::HeaderMap,
    /// The body: its first `DATA` frame as is, and a copy once there are more.
    first: Bytes,
    more: Option<BytesMut>,
    len: usize,
}

impl Incoming {
    fn push(&mut self, chunk: Bytes) {
        self.len += chunk.len();
        if let Some(more) = &mut self.more {
            more.extend_from_slice(&chunk);
        } else if self.first.is_empty() {
            self.first = chunk;
        } else {
            let mut more = BytesMut::with_capacity(self.first.len() + chunk.len());
            more.extend_from_slice(&self.first);
            more.extend_from_slice(&chunk);
            self.more = Some(more);
        }
    }

    fn into_request(self) -> Request {
        Request {
            path: self.path,
            headers: self.headers,
            body: self.more.map_or(self.first, BytesMut::freeze),
        }
    }
}

impl Stream {
    fn new(request: Option<Receiving>, send_window: i64) -> Self {
        Stream {
            request,
            recv: RecvWindow::new(STREAM_WINDOW),
            send_window,
            queued: VecDeque::new(),
            queued_len: 0,
            trailers: None,
            complete: false,
            body: None,
            abort: None,
        }
    }

    fn has_data_waiting(&self) -> bool {
        self.queued_len > 0
    }
}

/// A call's future, tagged with its stream. A call that panics is answered with `INTERNAL`, as
/// it would be if it ran on a task of its own, and the connection's other calls go on.
struct Tagged {
    stream: u32,
    call: CallFuture,
}

impl Future for Tagged {
    type Output = (u32, Answer);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(u32, Answer)> {
        let stream = self.stream;
        let call = &mut self.call;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call.as_mut().poll(cx))) {
            Ok(answer) => answer.map(|answer| (stream, answer)),
            Err(_) => Poll::Ready((
                stream,
                Answer::Status(Status::internal(
                    "the provider panicked while answering this call (a bug in the provider); \
                     its log on stderr has the panic message",
                )),
            )),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Router> Connection<IO, R> {
    fn new(io: IO, router: Arc<R>) -> Self {
        // This server never raises SETTINGS_HEADER_TABLE_SIZE from its default.
        let decoder = hpack::Decoder::new(4096);
        let mut out = Vec::with_capacity(16 << 10);
        frame::put_settings(
            &mut out,
            &[
                (setting::MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS),
                (setting::INITIAL_WINDOW_SIZE, STREAM_WINDOW as u32),
                (setting::MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK as u32),
            ],
        );
        frame::put_window_update(
            &mut out,
            0,
            (CONNECTION_WINDOW - frame::DEFAULT_WINDOW) as u32,
        );
        Connection {
            io,
            router,
            read_buf: BytesMut::with_capacity(32 << 10),
            out,
            written: 0,
            needs_flush: false,
            preface_read: false,
            settings_read: false,
            decoder,
            continuation: None,
            streams: HashMap::new(),
            calls: FuturesUnordered::new(),
            bodies: Vec::new(),
            last_stream: 0,
            peer_max_frame: frame::DEFAULT_MAX_FRAME,
            peer_initial_window: frame::DEFAULT_WINDOW,
            send_window: frame::DEFAULT_WINDOW,
            recv: RecvWindow::new(CONNECTION_WINDOW),
            going_away: false,
        }
    }

    /// Tells the client no new streams will be served; the connection closes once the streams
    /// it has are done.
    fn go_away(&mut self) {
        self.going_away = true;
        frame::put_goaway(&mut self.out, self.last_stream, Reason::NoError, "");
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut busy = false;
            let read_paused = self.out.len() >= OUT_HIGH_WATER;
            if !read_paused {
                if self.read_buf.capacity() - self.read_buf.len() < 4096 {
                    self.read_buf.reserve(32 << 10);
                }
                match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf)
                {
                    // The client closed the connection: nobody is left to answer.
                    Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(_)) => {
                        busy = true;
                        if let Err(e) = self.read_frames() {
                            return self.fail(cx, e);
                        }
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
            while let Poll::Ready(Some(done)) = self.calls.poll_next_unpin(cx) {
                busy = true;
                // An aborted call's stream was reset by the client.
                if let Ok((stream, answer)) = done {
                    self.answer(stream, answer);
                }
            }
            busy |= self.poll_bodies(cx);
            let before = self.out.len() - self.written;
            if let Poll::Ready(Err(e)) = self.poll_write(cx) {
                return Poll::Ready(Err(e));
            }
            if read_paused && self.out.len() - self.written < before {
                busy = true;
            }
            if self.going_away && self.streams.is_empty() && self.out.is_empty() {
                if self.needs_flush {
                    return Poll::Pending;
                }
                return Pin::new(&mut self.io).poll_shutdown(cx);
            }
            if !busy {
                return Poll::Pending;
            }
        }
    }

    /// Writes what is waiting, then flushes.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.out.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.out[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    self.needs_flush = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.out.clear();
        self.written = 0;
        if self.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                other => return other,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Ends the connection on a protocol error: a `GOAWAY` naming it, written if the socket
    /// takes it now.
    fn fail(&mut self, cx: &mut Context<'_>, e: ConnectionError) -> Poll<io::Result<()>> {
        frame::put_goaway(&mut self.out, self.last_stream, e.reason, &e.message);
        let _ = self.poll_write(cx);
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("HTTP/2 {:?}: {}", e.reason, e.message),
        )))
    }

    fn read_frames(&mut self) -> Result<(), ConnectionError> {
        if !self.preface_read {
            let n = self.read_buf.len().min(frame::PREFACE.len());
            if self.read_buf[..n] != frame::PREFACE[..n] {
                return Err(protocol_error(
                    "the client did not start with HTTP/2's preface",
                ));
            }
            if n < frame::PREFACE.len() {
                return Ok(());
            }
            self.read_buf.advance(n);
            self.preface_read = true;
        }
        while self.read_buf.len() >= HEAD_LEN {
            let head = Head::parse(&self.read_buf);
            if head.len > frame::DEFAULT_MAX_FRAME {
                return Err(ConnectionError {
                    reason: Reason::FrameSizeError,
                    message: format!(
                        "a frame of {} bytes is over SETTINGS_MAX_FRAME_SIZE ({})",
                        head.len,
                        frame::DEFAULT_MAX_FRAME
                    ),
                });
            }
            if self.read_buf.len() < HEAD_LEN + head.len {
                self.read_buf
                    .reserve(HEAD_LEN + head.len - self.read_buf.len());
                return Ok(());
            }
            self.read_buf.advance(HEAD_LEN);
            let payload = self.read_buf.split_to(head.len).freeze();
            self.frame(head, payload)?;
        }
        Ok(())
    }

    fn frame(&mut self, head: Head, payload: Bytes) -> Result<(), ConnectionError> {
        if !self.settings_read {
            if head.kind != kind::SETTINGS || head.flags & flag::ACK != 0 {
                return Err(protocol_error("the client's first frame was not SETTINGS"));
            }
            self.settings_read = true;
        }
        if let Some(pending) = &self.continuation {
            if head.kind != kind::CONTINUATION || head.stream != pending.stream {
                return Err(protocol_error(
                    "a header block was interrupted before its END_HEADERS",
                ));
            }
        }
        match head.kind {
            kind::DATA => self.data(head, payload),
            kind::HEADERS => self.headers(head, payload),
            kind::CONTINUATION => self.continuation(head, payload),
            kind::PRIORITY => {
                if head.stream == 0 {
                    return Err(protocol_error("PRIORITY on stream 0"));
                }
                if head.len != 5 {
                    self.reset(head.stream, Reason::FrameSizeError);
                }
                Ok(())
            }
            kind::RST_STREAM => {
                if head.stream == 0 || head.stream > self.last_stream {
                    return Err(protocol_error("RST_STREAM on an idle stream"));
                }
                if head.len != 4 {
                    return Err(frame_size("RST_STREAM"));
                }
                if let Some(stream) = self.streams.remove(&head.stream) {
                    if let Some(abort) = stream.abort {
                        abort.abort();
                    }
                }
                Ok(())
            }
            kind::SETTINGS => self.settings(head, &payload),
            kind::PING => {
                if head.stream != 0 {
                    return Err(protocol_error("PING on a stream"));
                }
                if head.len != 8 {
                    return Err(frame_size("PING"));
                }
                if head.flags & flag::ACK == 0 {
                    frame::put_head(&mut self.out, 8, kind::PING, flag::ACK, 0);
                    self.out.extend_from_slice(&payload);
                }
                Ok(())
            }
            // The client will open no more streams; the ones it has are still answered.
            kind::GOAWAY => Ok(()),
            kind::WINDOW_UPDATE => self.window_update(head, &payload),
            kind::PUSH_PROMISE => Err(protocol_error("a client sent PUSH_PROMISE")),
            // Unknown frame types are ignored (RFC 9113 §4.1).
            _ => Ok(()),
        }
    }

    fn headers(&mut self, head: Head, payload: Bytes) -> Result<(), ConnectionError> {
        if head.stream == 0 {
            return Err(protocol_error("HEADERS on stream 0"));
        }
        let mut fragment = strip_padding(head, payload)?;
        if head.flags & flag::PRIORITY != 0 {
            if fragment.len() < 5 {
                return Err(frame_size("HEADERS"));
            }
            fragment.advance(5);
        }
        let block = HeaderBlock {
            stream: head.stream,
            end_stream: head.flags & flag::END_STREAM != 0,
            block: fragment,
        };
        if head.flags & flag::END_HEADERS != 0 {
            self.header_block(block)
        } else {
            self.continuation = Some(block);
            Ok(())
        }
    }

    fn continuation(&mut self, head: Head, payload: Bytes) -> Result<(), ConnectionError> {
        let Some(mut pending) = self.continuation.take() else {
            return Err(protocol_error("CONTINUATION without HEADERS"));
        };
        if pending.block.len() + payload.len() > MAX_HEADER_BLOCK {
            return Err(ConnectionError {
                reason: Reason::EnhanceYourCalm,
                message: format!("a header block is over {MAX_HEADER_BLOCK} bytes"),
            });
        }
        let mut joined = BytesMut::with_capacity(pending.block.len() + payload.len());
        joined.extend_from_slice(&pending.block);
        joined.extend_from_slice(&payload);
        pending.block = joined.freeze();
        if head.flags & flag::END_HEADERS != 0 {
            self.header_block(pending)
        } else {
            self.continuation = Some(pending);
            Ok(())
        }
    }

    /// A complete header block: a new call, or the client's trailers.
    fn header_block(&mut self, block: HeaderBlock) -> Result<(), ConnectionError> {
        let id = block.stream;
        let is_new = id > self.last_stream;
        if is_new && id.is_multiple_of(2) {
            return Err(protocol_error("a client opened an even-numbered stream"));
        }
        // `None` until a valid UTF-8 `:path` is seen.
        let mut path: Option<String> = None;
        let mut route: Option<Route> = None;
        let mut headers = http::HeaderMap::new();
        let Connection {
            decoder, router, ..
        } = self;
        let decoded = decoder.decode(&block.block, |name, value| {
            if !is_new {
                return;
            }
            if name.first() == Some(&b':') {
                if name == b":path" {
                    path = std::str::from_utf8(value).ok().map(str::to_owned);
                }
                return;
            }
            // Pseudo-headers come first, so the route is known by the first regular header.
            let route = route.get_or_insert_with(|| route_of(&**router, path.as_deref()));
            if matches!(route, Route::Headers) {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name),
                    http::HeaderValue::from_bytes(value),
                ) {
                    headers.append(name, value);
                }
            }
        });
        if let Err(e) = decoded {
            return Err(ConnectionError {
                reason: Reason::CompressionError,
                message: format!("decoding a header block: {e}"),
            });
        }
        if !is_new {
            return self.trailers(id, block.end_stream);
        }
        self.last_stream = id;
        if self.going_away || self.streams.len() >= MAX_CONCURRENT_STREAMS as usize {
            frame::put_rst_stream(&mut self.out, id, Reason::RefusedStream);
            return Ok(());
        }
        let Some(path) = path else {
            frame::put_rst_stream(&mut self.out, id, Reason::ProtocolError);
            return Ok(());
        };
        let route = route.unwrap_or_else(|| route_of(&*self.router, Some(&path)));
        let mut stream = Stream::new(None, self.peer_initial_window);
        if let Route::Refused(status) = route {
            if !block.end_stream {
                stream.request = Some(Receiving::Discard);
            }
            self.streams.insert(id, stream);
            self.answer(id, Answer::Status(status));
            return Ok(());
        }
        let incoming = Incoming {
            path,
            headers,
            first: Bytes::new(),
            more: None,
            len: 0,
        };
        if block.end_stream {
            self.streams.insert(id, stream);
            self.start(id, incoming);
        } else {
            stream.request = Some(Receiving::Call(incoming));
            self.streams.insert(id, stream);
        }
        Ok(())
    }

    /// The client's trailers on a stream it opened earlier: they end its request.
    fn trailers(&mut self, id: u32, end_stream: bool) -> Result<(), ConnectionError> {
        let Some(stream) = self.streams.get_mut(&id) else {
            // A stream already closed here; its late trailers have been decoded and are dropped.
            return Ok(());
        };
        if !end_stream || stream.request.is_none() {
            self.reset(id, Reason::ProtocolError);
            return Ok(());
        }
        self.end_request(id);
        Ok(())
    }

    fn data(&mut self, head: Head, payload: Bytes) -> Result<(), ConnectionError> {
        if head.stream == 0 {
            return Err(protocol_error("DATA on stream 0"));
        }
        // Flow control counts the whole payload, padding included.
        let len = payload.len() as i64;
        if !self.recv.take(len) {
            return Err(flow_control_error(
                "the client sent more than the connection's window",
            ));
        }
        if let Some(increment) = self.recv.give_back(len) {
            frame::put_window_update(&mut self.out, 0, increment);
        }
        let data = strip_padding(head, payload)?;
        let end_stream = head.flags & flag::END_STREAM != 0;
        let id = head.stream;
        let Some(stream) = self.streams.get_mut(&id) else {
            if id > self.last_stream {
                return Err(protocol_error("DATA on an idle stream"));
            }
            // Data in flight for a stream closed here.
            return Ok(());
        };
        if stream.request.is_none() {
            self.reset(id, Reason::StreamClosed);
            return Ok(());
        }
        if !stream.recv.take(len) {
            self.reset(id, Reason::FlowControlError);
            return Ok(());
        }
        let mut over_limit = false;
        if let Some(Receiving::Call(incoming)) = &mut stream.request {
            if incoming.len + data.len() > MAX_BODY {
                over_limit = true;
                stream.request = Some(Receiving::Discard);
            } else if !data.is_empty() {
                incoming.push(data);
            }
        }
        if end_stream {
            self.end_request(id);
        } else if let Some(increment) = stream.recv.give_back(len) {
            frame::put_window_update(&mut self.out, id, increment);
        }
        if over_limit {
            self.answer(
                id,
                Answer::Status(Status::resource_exhausted(format!(
                    "the request body is over the limit of one gRPC message of \
                     {MAX_MESSAGE_SIZE} bytes"
                ))),
            );
        }
        Ok(())
    }

    /// The client has sent all of a stream's request: its call starts, or, if it was already
    /// answered, the stream is done.
    fn end_request(&mut self, id: u32) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        match stream.request.take() {
            Some(Receiving::Call(incoming)) => self.start(id, incoming),
            Some(Receiving::Discard) | None => {}
        }
    }

    fn start(&mut self, id: u32, incoming: Incoming) {
        let call = self.router.call(incoming.into_request());
        let (abort, registration) = AbortHandle::new_pair();
        if let Some(stream) = self.streams.get_mut(&id) {
            stream.abort = Some(abort);
        }
        self.calls
            .push(Abortable::new(Tagged { stream: id, call }, registration));
    }

    /// Writes a call's answer, as far as flow control lets it.
    fn answer(&mut self, id: u32, answer: Answer) {
        let max_frame = self.peer_max_frame;
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.abort = None;
        match answer {
            Answer::Message(message) => {
                frame::put_headers(&mut self.out, id, frame::GRPC_OK_HEADERS, false, max_frame);
                stream.queued_len = message.len();
                stream.queued.push_back(message);
                stream.trailers = Some(Cow::Borrowed(frame::GRPC_OK_TRAILERS));
                stream.complete = true;
            }
            Answer::Status(status) => {
                let response = status.into_http::<tonic::body::Body>();
                let mut block = Vec::with_capacity(128);
                frame::encode_headers(&mut block, Some(response.status()), response.headers());
                frame::put_headers(&mut self.out, id, &block, true, max_frame);
                self.close(id);
                return;
            }
            Answer::Http(response) => {
                let (parts, body) = response.into_parts();
                let mut block = Vec::with_capacity(128);
                frame::encode_headers(&mut block, Some(parts.status), &parts.headers);
                if body.is_end_stream() {
                    frame::put_headers(&mut self.out, id, &block, true, max_frame);
                    self.close(id);
                    return;
                }
                frame::put_headers(&mut self.out, id, &block, false, max_frame);
                stream.body = Some(body);
                self.bodies.push(id);
            }
        }
        self.send(id);
    }

    /// Reads the answer bodies that have room to queue; whether any made progress.
    fn poll_bodies(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.bodies.len() {
            let id = self.bodies[i];
            let Some(stream) = self.streams.get_mut(&id) else {
                self.bodies.swap_remove(i);
                continue;
            };
            let Some(body) = stream.body.as_mut() else {
                self.bodies.swap_remove(i);
                continue;
            };
            if stream.queued_len >= BODY_HIGH_WATER {
                i += 1;
                continue;
            }
            match Pin::new(body).poll_frame(cx) {
                Poll::Pending => {
                    i += 1;
                    continue;
                }
                Poll::Ready(Some(Ok(body_frame))) => match body_frame.into_data() {
                    Ok(data) => {
                        if !data.is_empty() {
                            stream.queued_len += data.len();
                            stream.queued.push_back(data);
                        }
                    }
                    Err(body_frame) => {
                        if let Ok(trailers) = body_frame.into_trailers() {
                            let mut block = Vec::with_capacity(64);
                            frame::encode_headers(&mut block, None, &trailers);
                            stream.trailers = Some(Cow::Owned(block));
                        }
                        stream.body = None;
                        stream.complete = true;
                    }
                },
                Poll::Ready(None) => {
                    stream.body = None;
                    stream.complete = true;
                }
                Poll::Ready(Some(Err(status))) => {
                    tracing::debug!("an answer's body failed: {status}");
                    self.reset(id, Reason::InternalError);
                    progress = true;
                    continue;
                }
            }
            progress = true;
            self.send(id);
        }
        progress
    }

    /// Sends a stream's queued data as far as both windows allow, then its end once all of it
    /// is sent.
    fn send(&mut self, id: u32) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        while let Some(front) = stream.queued.front_mut() {
            let allowed = stream.send_window.min(self.send_window).max(0) as usize;
            let n = front.len().min(allowed).min(self.peer_max_frame);
            if n == 0 {
                return;
            }
            let chunk = front.split_to(n);
            if front.is_empty() {
                stream.queued.pop_front();
            }
            stream.queued_len -= n;
            stream.send_window -= n as i64;
            self.send_window -= n as i64;
            let last = stream.complete && stream.queued.is_empty() && stream.trailers.is_none();
            let flags = if last { flag::END_STREAM } else { 0 };
            frame::put_head(&mut self.out, n, kind::DATA, flags, id);
            self.out.extend_from_slice(&chunk);
            if last {
                self.close(id);
                return;
            }
        }
        if !stream.complete {
            return;
        }
        match stream.trailers.take() {
            Some(trailers) => {
                frame::put_headers(&mut self.out, id, &trailers, true, self.peer_max_frame)
            }
            None => frame::put_head(&mut self.out, 0, kind::DATA, flag::END_STREAM, id),
        }
        self.close(id);
    }

    /// This server has ended the stream. A client still sending is told to stop (RFC 9113
    /// §8.1: `RST_STREAM` with `NO_ERROR` after a complete answer).
    fn close(&mut self, id: u32) {
        if let Some(stream) = self.streams.remove(&id) {
            if stream.request.is_some() {
                frame::put_rst_stream(&mut self.out, id, Reason::NoError);
            }
        }
    }

    /// Ends a stream with an error.
    fn reset(&mut self, id: u32, reason: Reason) {
        frame::put_rst_stream(&mut self.out, id, reason);
        if let Some(stream) = self.streams.remove(&id) {
            if let Some(abort) = stream.abort {
                abort.abort();
            }
        }
    }

    fn settings(&mut self, head: Head, payload: &[u8]) -> Result<(), ConnectionError> {
        if head.stream != 0 {
            return Err(protocol_error("SETTINGS on a stream"));
        }
        if head.flags & flag::ACK != 0 {
            return if head.len == 0 {
                Ok(())
            } else {
                Err(frame_size("SETTINGS acknowledgement"))
            };
        }
        if !head.len.is_multiple_of(6) {
            return Err(frame_size("SETTINGS"));
        }
        let mut window_grew = false;
        for entry in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([entry[0], entry[1]]);
            let value = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
            match id {
                setting::ENABLE_PUSH if value > 1 => {
                    return Err(protocol_error("SETTINGS_ENABLE_PUSH above 1"))
                }
                setting::INITIAL_WINDOW_SIZE => {
                    let value = i64::from(value);
                    if value > frame::MAX_WINDOW {
                        return Err(flow_control_error(
                            "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
                        ));
                    }
                    let delta = value - self.peer_initial_window;
                    for stream in self.streams.values_mut() {
                        stream.send_window += delta;
                        if stream.send_window > frame::MAX_WINDOW {
                            return Err(flow_control_error("a stream's window went above 2^31-1"));
                        }
                    }
                    self.peer_initial_window = value;
                    window_grew |= delta > 0;
                }
                setting::MAX_FRAME_SIZE => {
                    if !(frame::DEFAULT_MAX_FRAME as u32..=(1 << 24) - 1).contains(&value) {
                        return Err(protocol_error("SETTINGS_MAX_FRAME_SIZE out of range"));
                    }
                    self.peer_max_frame = value as usize;
                }
                // Answers use no dynamic table, and the client's other limits are far above
                // what this server sends.
                setting::HEADER_TABLE_SIZE
                | setting::ENABLE_PUSH
                | setting::MAX_CONCURRENT_STREAMS
                | setting::MAX_HEADER_LIST_SIZE => {}
                _ => {}
            }
        }
        frame::put_head(&mut self.out, 0, kind::SETTINGS, flag::ACK, 0);
        if window_grew {
            self.send_waiting();
        }
        Ok(())
    }

    fn window_update(&mut self, head: Head, payload: &[u8]) -> Result<(), ConnectionError> {
        if head.len != 4 {
            return Err(frame_size("WINDOW_UPDATE"));
        }
        let increment = i64::from(
            u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & 0x7fff_ffff,
        );
        if head.stream == 0 {
            if increment == 0 {
                return Err(protocol_error("a WINDOW_UPDATE of 0 on the connection"));
            }
            self.send_window += increment;
            if self.send_window > frame::MAX_WINDOW {
                return Err(flow_control_error(
                    "the connection's window went above 2^31-1",
                ));
            }
            self.send_waiting();
            return Ok(());
        }
        let id = head.stream;
        let Some(stream) = self.streams.get_mut(&id) else {
            if id > self.last_stream {
                return Err(protocol_error("WINDOW_UPDATE on an idle stream"));
            }
            return Ok(());
        };
        if increment == 0 {
            self.reset(id, Reason::ProtocolError);
            return Ok(());
        }
        stream.send_window += increment;
        if stream.send_window > frame::MAX_WINDOW {
            self.reset(id, Reason::FlowControlError);
            return Ok(());
        }
        self.send(id);
        Ok(())
    }

    /// Sends what flow control held back, after a window grew.
    fn send_waiting(&mut self) {
        if !self.streams.values().any(Stream::has_data_waiting) {
            return;
        }
        let waiting: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, s)| s.has_data_waiting())
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            self.send(id);
        }
    }
}

fn route_of<R: Router + ?Sized>(router: &R, path: Option<&str>) -> Route {
    match path {
        Some(path) => router.route(path),
        None => Route::Refused(Status::internal("the request has no valid :path")),
    }
}

fn flow_control_error(message: &str) -> ConnectionError {
    ConnectionError {
        reason: Reason::FlowControlError,
        message: message.into(),
    }
}

fn frame_size(what: &str) -> ConnectionError {
    ConnectionError {
        reason: Reason::FrameSizeError,
        message: format!("a {what} frame of the wrong size"),
    }
}

/// A `DATA` or `HEADERS` payload without its padding (RFC 9113 §6.1).
fn strip_padding(head: Head, mut payload: Bytes) -> Result<Bytes, ConnectionError> {
    if head.flags & flag::PADDED == 0 {
        return Ok(payload);
    }
    let Some(&pad) = payload.first() else {
        return Err(frame_size("padded"));
    };
    let pad = usize::from(pad);
    if pad >= payload.len() {
        return Err(protocol_error("padding as long as the frame"));
    }
    payload.advance(1);
    payload.truncate(payload.len() - pad);
    Ok(payload)
}
