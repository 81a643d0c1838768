//! The library's error type: what can go wrong while starting a mock server.

use std::net::SocketAddr;

/// Why a mock server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A [`crate::Config`] value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The listen address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The bound socket could not report its address.
    #[error("cannot read the bound address: {0}")]
    LocalAddr(#[source] std::io::Error),
}
