//! A small HTTP/2 server for gRPC, made for the one client a provider has: Terraform's gRPC
//! client over go-plugin's socket. It serves calls whose request is one message (every call a
//! provider and go-plugin's services answer) with streamed or single-message answers. A request
//! body is buffered whole (at most one gRPC message of `MAX_MESSAGE_SIZE`) before its call runs;
//! `grpc-timeout` is not enforced (Terraform sets no deadlines on these calls).
//!
//! Why not hyper: a `plan` of N resources makes about 5N small calls and Terraform waits on
//! each, so the provider's time per call is added to every plan (BENCHMARKS.md, `plan_ratio`).
//! Here one task owns the connection: it reads frames, runs the calls, and writes every answer
//! and acknowledgement that is ready in one write, with no task or channel per stream and no
//! header maps for the per-resource calls. Header blocks are decoded in place (`hpack`).
mod connection;
mod frame;
mod hpack;

use std::future::Future;
use std::pin::Pin;

use prost::bytes::Bytes;
use tonic::Status;

pub(crate) use connection::serve_connection;

/// The 5-byte prefix of every gRPC message: a compression flag and a big-endian length.
pub(crate) const GRPC_PREFIX_LEN: usize = 5;

/// A boxed call in flight.
pub(crate) type CallFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// How a call is served, decided from its path when its headers arrive.
pub(crate) enum Route {
    /// From the path and the body alone.
    Body,
    /// With the request's headers too.
    Headers,
    /// Answered at once with this status, without waiting for the request's body.
    Refused(Status),
}

/// A call whose request has fully arrived.
pub(crate) struct Request {
    pub path: String,
    /// Empty unless the route asked for them.
    pub headers: http::HeaderMap,
    /// The request body: the call's gRPC message with its 5-byte prefix.
    pub body: Bytes,
}

/// A call's answer.
pub(crate) enum Answer {
    /// One encoded gRPC message, with its 5-byte prefix, then `grpc-status: 0`.
    Message(Bytes),
    /// An error, as a trailers-only answer.
    Status(Status),
    /// Any other answer, streamed from its body (tonic's generated services).
    Http(http::Response<tonic::body::Body>),
}

/// The services of one server.
pub(crate) trait Router: Send + Sync + 'static {
    fn route(&self, path: &str) -> Route;
    fn call(&self, request: Request) -> CallFuture;
}

#[cfg(test)]
mod tests;
