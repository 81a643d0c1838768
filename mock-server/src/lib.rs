//! momento-mock: a Momento-compatible mock server. One port serves Momento's gRPC services and
//! plain HTTP (the `/_mock` admin API). Start one with [`start`]; the `momento-mock` binary is a
//! thin CLI over the same call.
//!
//! Layout: [`config`] (settings), [`state`] (caches and everything they own), [`names`] (name
//! rules), [`auth`] (token checks), [`grpc`] (one module per gRPC service), [`http`] (plain-HTTP
//! routes), `server` (listener, router, shutdown), [`proto`] (code generated from `proto/`).

pub mod auth;
pub mod config;
mod error;
pub mod events;
pub mod grpc;
pub mod http;
pub mod names;
pub mod proto;
mod server;
pub mod state;

pub use config::Config;
pub use error::Error;
pub use server::{start, start_with_state, RunningMock};
pub use state::SharedState;
