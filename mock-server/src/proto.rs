//! Generated gRPC code the mock serves besides `momento-protos`: re-exported from the shared
//! `momento-wire` crate (webhooks, ping, and the topic extension).
pub use momento_wire::{cache_client, topics, webhook};
