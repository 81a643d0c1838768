//! The fast path for the unary calls Terraform makes once per resource instance (validate,
//! upgrade, read, plan, apply, read data source): the request's one gRPC message is decoded
//! straight from the HTTP/2 body and the answer goes back as one DATA frame and the trailers.
//!
//! tonic's generated server does the same through its streaming codec, metadata maps and
//! per-call layers. A `plan` of N resources makes about 5N of these calls and Terraform waits
//! for each, so the provider's CPU time per call is added to every plan (BENCHMARKS.md,
//! `plan_ratio`). Every other call, streaming ones included, still goes through tonic.

use std::future::Future;

use prost::bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use tonic::{Request, Response, Status};

use crate::http2::{Answer, GRPC_PREFIX_LEN as PREFIX_LEN};
use crate::serve::MAX_MESSAGE_SIZE;

/// Serves one unary call: decodes the request from `body`, runs `call` on it, and encodes its
/// answer, or its error status.
pub(crate) async fn serve<Req, Resp, Fut>(
    body: Bytes,
    call: impl FnOnce(Request<Req>) -> Fut,
) -> Answer
where
    Req: prost::Message + Default,
    Resp: prost::Message,
    Fut: Future<Output = Result<Response<Resp>, Status>>,
{
    let request = match decode_message::<Req>(body) {
        Ok(request) => request,
        Err(status) => return Answer::Status(status),
    };
    match call(Request::new(request)).await {
        Ok(response) => Answer::Message(encode_message(&response.into_inner())),
        Err(status) => Answer::Status(status),
    }
}

/// Decodes the request body's single gRPC message. The connection has already refused bodies
/// over one message's worth.
fn decode_message<M: prost::Message + Default>(mut bytes: Bytes) -> Result<M, Status> {
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

/// The encoded message with its gRPC prefix.
fn encode_message<M: prost::Message>(message: &M) -> Bytes {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(PREFIX_LEN + len);
    buf.put_u8(0);
    // Every message the provider builds is far below 4 GiB; the client checks the length.
    buf.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    // Encoding into a buffer sized by `encoded_len` cannot run out of room.
    let _ = message.encode(&mut buf);
    buf.freeze()
}
