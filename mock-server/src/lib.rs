//! momento-mock: a Momento-compatible mock server. One port serves Momento's gRPC services and
//! plain HTTP (the `/_mock` admin API). Start one with [`start`]; the `momento-mock` binary is a
//! thin CLI over the same call.
//!
//! Layout: [`config`] (settings), [`state`] (caches and everything they own), [`names`] (name
//! rules), [`auth`] (token checks), [`grpc`] (one module per gRPC service), [`http`] (plain-HTTP
//! routes), [`pubsub`] (topics: logs, subscribers, the topic extension), `server` (listener,
//! router, shutdown), [`proto`] (code generated from `proto/`), [`webhooks`] (webhook registry,
//! signed-POST fan-out, delivery journal, built-in receiver).

pub mod auth;
pub mod config;
mod error;
pub mod events;
pub mod grpc;
pub mod http;
pub mod names;
pub mod proto;
pub mod pubsub;
mod server;
pub mod state;
pub mod webhooks;

pub use config::Config;
pub use error::Error;
pub use server::{start, start_with_state, RunningMock};
pub use state::SharedState;
