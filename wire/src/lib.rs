//! gRPC code shared by `momento-mock` and the provider, generated from `proto/`: Momento's
//! `webhook.Webhook` and `cache_client.Ping` services (absent from `momento-protos`) and the
//! mock's topic extension `momento_mock.topics.v1.Topics`.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod webhook {
    tonic::include_proto!("webhook");
}

pub mod cache_client {
    tonic::include_proto!("cache_client");
}

pub mod topics {
    tonic::include_proto!("momento_mock.topics.v1");
}
