//! `terraform-provider-momento`: Momento caches, topics and webhooks for Terraform, built on the
//! `tfplugin` framework and speaking Momento's own gRPC protocol.
pub mod cache;
pub mod caches_data_source;
pub mod client;
pub mod config;
pub mod docs;
pub mod names;
pub mod provider;
pub mod topic;
pub mod topic_reads;
pub mod webhook;
pub mod webhook_secret;
pub mod webhooks_data_source;

pub use provider::MomentoProvider;

/// The provider's source address, as written in `required_providers` (`source = "local/momento"`).
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/local/momento";
