//! `tfplugin`: Terraform plugin protocol 6 (6.10) on tonic, a general provider framework.
//!
//! A provider implements [`Provider`] with typed [`Resource`]s, [`DataSource`]s and
//! [`EphemeralResource`]s over the dynamic [`value`] layer; the framework applies Terraform's
//! plan rules, validates schemas, and serves the protocol ([`run`] for a provider binary,
//! [`serve_in_process`] for tests).
pub mod diag;
mod http2;
pub mod model;
pub mod plan;
pub mod proto;
pub mod resource;
pub mod schema;
pub mod serve;
pub mod server;
mod tls;
mod unary;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics, Severity};
pub use model::{Fields, Model};
pub use resource::{Context, DataSource, EphemeralResource, PlanChange, Provider, Resource};
pub use schema::{Attribute, Block, Mode, NestedBlock, Nesting, Schema, SchemaKind};
pub use serve::{run, serve_in_process, InProcessServer, ServeError};
pub use value::{Number, Type, Value};
