//! Code generated at build time from `proto/` (services momento-protos does not ship).
//! Momento's own messages and services come from the `momento-protos` crate.

/// Package `cache_client`: the `Ping` service (`/cache_client.Ping/Ping`), client and server.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod cache_client {
    include!(concat!(env!("OUT_DIR"), "/cache_client.rs"));
}
