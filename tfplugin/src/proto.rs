//! Owns the Rust code generated from `proto/*.proto` by `build.rs`: the
//! Terraform plugin protocol 6.10 (`tfplugin6`), go-plugin's controller and
//! stdio services (`plugin`) and the gRPC health service (`health`).
//!
//! The generated code is not hand-written, so lints that would otherwise
//! apply to this crate are relaxed inside these modules only.

/// Terraform plugin protocol 6.10: messages, `provider_server` and
/// `provider_client`.
#[allow(
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::nursery
)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's `GRPCController` and `GRPCStdio` services (package `plugin`).
#[allow(
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::nursery
)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// The standard `grpc.health.v1.Health` service.
#[allow(
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::nursery
)]
pub mod health {
    tonic::include_proto!("grpc.health.v1");
}
