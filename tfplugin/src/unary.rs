//! The fast path for the unary calls Terraform makes once per resource instance (validate,
//! upgrade, read, plan, apply, read data source): the request's one gRPC message is decoded
//! straight from the HTTP/2 body and the answer goes back as one DATA frame and the trailers.
//!
//! tonic's generated server does the same through its streaming codec, metadata maps and
//! per-call layers. A `plan` of N resources makes about 5N of these calls and Terraform waits
//! for each, so the provider's CPU time per call is added to every plan (BENCHMARKS.md,
//! `plan_ratio`). Every other call, streaming ones included, still goes through tonic.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, Incoming};
use prost::bytes::{Buf as _, BufMut as _, BytesMut};
use tonic::{Request, Response, Status};

use crate::serve::MAX_MESSAGE_SIZE;

/// What a gRPC service answers over HTTP/2.
pub(crate) type GrpcResponse = http::Response<tonic::body::Body>;

/// The 5-byte prefix of every gRPC message: a compression flag and a big-endian length.
const PREFIX_LEN: usize = 5;

/// Serves one unary call: decodes the request from `body`, runs `call` on it, and encodes its
/// answer, or its error status as a trailers-only response.
pub(crate) async fn serve<Req, Resp, Fut>(
    body: Incoming,
    call: impl FnOnce(Request<Req>) -> Fut,
) -> GrpcResponse
where
    Req: prost::Message + Default,
    Resp: prost::Message,
    Fut: Future<Output = Result<Response<Resp>, Status>>,
{
    let request = match read_message::<Req>(body).await {
        Ok(request) => request,
        Err(status) => return status.into_http(),
    };
    match call(Request::new(request)).await {
        Ok(response) => reply(&response.into_inner()),
        Err(status) => status.into_http(),
    }
}

/// Reads the request body (at most one message's worth) and decodes its single gRPC message.
async fn read_message<M: prost::Message + Default>(body: Incoming) -> Result<M, Status> {
    use http_body_util::BodyExt as _;
    let collected = http_body_util::Limited::new(body, PREFIX_LEN + MAX_MESSAGE_SIZE)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                Status::resource_exhausted(format!(
                    "the request body is over the limit of one gRPC message of \
                     {MAX_MESSAGE_SIZE} bytes"
                ))
            } else {
                Status::internal(format!("reading the request: {e}"))
            }
        })?;
    // Usually the whole message arrives in one DATA frame, which this takes without a copy.
    let mut bytes = collected.to_bytes();
    if bytes.len() < PREFIX_LEN {
        return Err(Status::internal(
            "the request carries no complete gRPC message",
        ));
    }
    let compressed = bytes.get_u8();
    let len = bytes.get_u32() as usize;
    if compressed != 0 {
        // What tonic answers too: a protocol error, as no `grpc-encoding` was negotiated.
        return Err(Status::internal(
            "the request's gRPC message is compressed, but this provider accepts only \
             uncompressed messages",
        ));
    }
    if len > MAX_MESSAGE_SIZE {
        return Err(too_large(len));
    }
    if bytes.len() != len {
        return Err(Status::internal(format!(
            "the request's gRPC message should be {len} bytes, but the body holds {} \
             (exactly one message is expected)",
            bytes.len()
        )));
    }
    M::decode(bytes).map_err(|e| Status::internal(format!("decoding the request: {e}")))
}

fn too_large(len: usize) -> Status {
    Status::resource_exhausted(format!(
        "the request's gRPC message is {len} bytes, over the limit of {MAX_MESSAGE_SIZE}"
    ))
}

/// A `200` with the encoded message and `grpc-status: 0` in the trailers.
fn reply<M: prost::Message>(message: &M) -> GrpcResponse {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(PREFIX_LEN + len);
    buf.put_u8(0);
    // Every message the provider builds is far below 4 GiB; the client checks the length.
    buf.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    // Encoding into a buffer sized by `encoded_len` cannot run out of room.
    let _ = message.encode(&mut buf);
    let mut trailers = http::HeaderMap::with_capacity(1);
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let mut response = http::Response::new(tonic::body::Body::new(OneMessage {
        data: Some(buf.freeze()),
        trailers: Some(trailers),
    }));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A response body of one DATA frame followed by the trailers.
struct OneMessage {
    data: Option<Bytes>,
    trailers: Option<http::HeaderMap>,
}

impl Body for OneMessage {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}
